"""What slim --trace keeps: symlinks resolved inside the image, the ELF closure found as
the image's loader would, includes and presets, .py next to .pyc, the keep list and
the plan as the complement. Synthetic images with hand-made ELF files; no engine."""

from __future__ import annotations

import os
import struct

import pytest

from slimscope.core.analysis import analyze
from slimscope.errors import BadInput
from slimscope.slim.trace import keep, keeplist, probes
from slimscope.slim.trace.elf import read_dynamic
from slimscope.slim.trace.tree import RootView, Tree
from tests.support import synth

DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 15, 29


def elf(needed=(), interp=None, runpath=None, rpath=None, bits=64) -> bytes:
    """A minimal ELF file: one PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC."""
    b64 = bits == 64
    ehsize, phsize, dynsize = (64, 56, 16) if b64 else (52, 32, 8)
    strings = b"\0"
    offsets = {}
    for s in [*needed, runpath, rpath]:
        if s:
            offsets[s] = len(strings)
            strings += s.encode() + b"\0"
    nph = 3 if interp else 2
    interp_off = ehsize + nph * phsize
    interp_b = (interp.encode() + b"\0") if interp else b""
    str_off = interp_off + len(interp_b)
    dyn_off = str_off + len(strings)
    tags = [(DT_NEEDED, offsets[n]) for n in needed]
    if runpath:
        tags.append((DT_RUNPATH, offsets[runpath]))
    if rpath:
        tags.append((DT_RPATH, offsets[rpath]))
    tags += [(DT_STRTAB, str_off), (DT_STRSZ, len(strings)), (DT_NULL, 0)]
    dyn = b"".join(struct.pack("<qq" if b64 else "<ii", t, v) for t, v in tags)
    total = dyn_off + len(dyn)
    ident = b"\x7fELF" + bytes([2 if b64 else 1, 1, 1]) + bytes(9)
    machine = 62 if b64 else 3
    if b64:
        head = ident + struct.pack("<HHIQQQIHHHHHH", 3, machine, 1, 0, ehsize, 0, 0, ehsize,
                                   phsize, nph, 64, 0, 0)
    else:
        head = ident + struct.pack("<HHIIIIIHHHHHH", 3, machine, 1, 0, ehsize, 0, 0, ehsize,
                                   phsize, nph, 40, 0, 0)

    def ph(kind, off, size, flags=4):
        if b64:
            return struct.pack("<IIQQQQQQ", kind, flags, off, off, off, size, size, 8)
        return struct.pack("<IIIIIIII", kind, off, off, off, size, size, flags, 4)

    phs = ph(1, 0, total, 5)
    if interp:
        phs += ph(3, interp_off, len(interp_b))
    phs += ph(2, dyn_off, len(dyn), 6)
    return head + phs + interp_b + strings + dyn


LIB = "usr/lib/x86_64-linux-gnu"
LD = "/lib64/ld-linux-x86-64.so.2"

ENTRIES = [
    ("etc", "dir"), ("etc/ld.so.conf", "file", b"include /etc/ld.so.conf.d/*.conf\n"),
    ("etc/ld.so.conf.d", "dir"),
    ("etc/ld.so.conf.d/a-x86.conf", "file", b"# multiarch\n/usr/lib/i386-linux-gnu\n/" +
     LIB.encode() + b"\n"),
    ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n"),
    ("usr", "dir"), ("usr/bin", "dir"), ("usr/lib", "dir"), ("usr/lib64", "dir"),
    ("lib64", "symlink", "usr/lib64"),
    ("usr/lib64/ld-linux-x86-64.so.2", "symlink", f"/{LIB}/ld-linux-x86-64.so.2"),
    (LIB, "dir"), (f"{LIB}/ld-linux-x86-64.so.2", "file", elf()),
    (f"{LIB}/libfoo.so.1", "symlink", "libfoo.so.1.2"),
    (f"{LIB}/libfoo.so.1.2", "file", elf(["libbar.so.2", "libc.so.6"],
                                         runpath="$ORIGIN/private")),
    (f"{LIB}/libc.so.6", "file", elf([], interp=LD)),
    (f"{LIB}/private", "dir"), (f"{LIB}/private/libbar.so.2", "file", elf(["libnope.so.9"])),
    ("usr/lib/i386-linux-gnu", "dir"),   # a 32-bit libfoo first in the search order
    ("usr/lib/i386-linux-gnu/libfoo.so.1", "file", elf(bits=32)),
    ("usr/bin/app", "file", elf(["libfoo.so.1", "libc.so.6"], interp=LD), 0o755),
    ("usr/bin/other", "file", elf(["libother.so"], interp=LD), 0o755),
    ("usr/share", "dir"), ("usr/share/big.bin", "file", b"x" * 50_000),
    ("usr/share/zoneinfo", "dir"), ("usr/share/zoneinfo/UTC", "file", b"TZif2 utc"),
    ("srv", "dir"), ("srv/conf", "dir"), ("srv/conf/a.ini", "file", b"a=1"),
    ("srv/link.ini", "symlink", "conf/a.ini"), ("srv/empty", "file", b""),
    ("py", "dir"), ("py/__pycache__", "dir"), ("py/mod.py", "file", b"X = 1\n"),
    ("py/__pycache__/mod.cpython-311.pyc", "file", b"\x00pyc"),
    ("loop", "symlink", "loop2"), ("loop2", "symlink", "/loop"),
]


def _entries():
    return ENTRIES


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    base = tmp_path_factory.mktemp("trace")
    archive = str(base / "img.tar")
    tars = [synth.layer_tar(_entries())]
    synth.docker_archive(archive, tars, tag="trace:unit", config=synth.config_for(
        tars, extra={"config": {"Env": ["LANG=de_DE.UTF-8"]}}))
    root = base / "root"
    for e in _entries():
        path = root / e[0]
        if e[1] == "dir":
            path.mkdir(parents=True, exist_ok=True)
        elif e[1] == "file":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(e[2])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(e[2], path)
    analysis = analyze(archive, use_cache=False)
    tree = Tree(analysis)
    return analysis, tree, RootView(tree, str(root))


def test_symlinks_resolve_inside_the_image(image):
    _, tree, _ = image
    chain = []
    assert tree.resolve(LD, chain) == f"/{LIB}/ld-linux-x86-64.so.2"
    assert chain == ["/lib64", "/usr/lib64/ld-linux-x86-64.so.2"]
    assert tree.resolve("/srv/link.ini") == "/srv/conf/a.ini"
    assert tree.resolve("/srv/../../srv/conf/./a.ini") == "/srv/conf/a.ini"
    assert tree.resolve("/loop") is None
    assert tree.resolve("/srv/conf/a.ini/x") is None
    assert tree.resolve("/nowhere") is None


def test_read_dynamic_sees_interpreter_needed_and_runpath(image):
    _, _, view = image
    with view.open(f"/{LIB}/libfoo.so.1") as f:
        dyn = read_dynamic(f)
    assert (dyn.needed, dyn.runpath, dyn.interp, dyn.elfclass) == (
        ["libbar.so.2", "libc.so.6"], ["$ORIGIN/private"], None, 64)
    with view.open("/etc/passwd") as f:
        assert read_dynamic(f) is None


def test_the_elf_closure_follows_the_loaders_search(image):
    analysis, tree, view = image
    kept = keep.compute(tree, analysis.image.config, traced=["/usr/bin/app"], view=view)
    r = kept.reasons
    assert r["/usr/bin/app"] == "traced"
    for p in ("/lib64", "/usr/lib64/ld-linux-x86-64.so.2", f"/{LIB}/ld-linux-x86-64.so.2",
              f"/{LIB}/libfoo.so.1", f"/{LIB}/libfoo.so.1.2", f"/{LIB}/libc.so.6",
              f"/{LIB}/private/libbar.so.2"):
        assert r[p] == "elf", p
    assert "/usr/lib/i386-linux-gnu/libfoo.so.1" not in r      # wrong class: skipped
    assert (f"/{LIB}/private/libbar.so.2", "libnope.so.9") in kept.missing_libs
    assert "/usr/bin/other" not in r and "/usr/share/big.bin" not in r
    assert r["/srv/empty"] == "zero-byte" and r["/usr/share"] == "zero-byte"


def test_includes_presets_and_python_sources(image):
    analysis, tree, view = image
    kept = keep.compute(tree, analysis.image.config,
                        traced=["/py/__pycache__/mod.cpython-311.pyc"],
                        includes=["/srv/link.ini"], presets=["tzdata", "users"], view=view)
    r = kept.reasons
    assert r["/py/mod.py"] == "python-source"
    assert r["/srv/conf/a.ini"] == "include"          # the include's symlink target
    assert r["/usr/share/zoneinfo/UTC"] == "preset:tzdata"
    assert r["/etc/passwd"] == "preset:users"
    with pytest.raises(BadInput, match="no include preset"):
        keep.compute(tree, analysis.image.config, presets=["nope"])


def test_what_lies_under_a_volume_is_kept(image):
    analysis, tree, view = image
    config = {"config": {"Volumes": {"/srv/conf": {}}}}
    kept = keep.compute(tree, config, view=view)
    assert kept.reasons["/srv/conf/a.ini"] == "volume"
    assert "/usr/share/big.bin" not in kept.reasons


def test_locale_preset_follows_lang():
    globs = keep.locale_globs({"config": {"Env": ["LANG=de_DE.UTF-8"]}})
    assert "/usr/lib/locale/de_DE.UTF-8" in globs and "/usr/share/locale/de" in globs
    assert keep.locale_globs({"config": {"Env": ["LANG=C.UTF-8"]}}) == []


def test_the_plan_removes_exactly_what_is_not_kept(image):
    analysis, tree, view = image
    kept = keep.compute(tree, analysis.image.config, traced=["/usr/bin/app"], view=view)
    plan = keep.plan_for(analysis, kept)
    assert set(plan.removed) == set(tree.final) - set(kept.reasons)
    assert "/usr/share/big.bin" in plan.removed and "/usr/bin/app" not in plan.removed
    assert plan.bytes == sum(tree.size(p) for p in plan.removed)


def test_keep_list_round_trip(tmp_path, image):
    analysis, tree, view = image
    kept = keep.compute(tree, analysis.image.config, traced=["/usr/bin/app"], view=view)
    kept.add("/odd\tname\nwith\\slash", "include")
    path = tmp_path / "keep.txt"
    keeplist.write(str(path), keeplist.render(kept, "trace:unit", "sha256:00"), force=False)
    listed = keeplist.read(str(path))
    assert set(listed) == {p for p, r in kept.reasons.items() if r != "zero-byte"}
    with pytest.raises(BadInput, match="exists"):
        keeplist.write(str(path), "x", force=False)
    again = keep.compute(tree, analysis.image.config, listed=listed)
    assert set(again.reasons) == set(kept.reasons) - {"/odd\tname\nwith\\slash"}
    assert "not in this image" in again.notes[0]
    path.write_text("just a file\n")
    with pytest.raises(BadInput, match="not a slimscope keep list"):
        keeplist.read(str(path))


def test_probe_options_parse():
    p = probes.parse(["app --version", "x 'a b'"], ["8080/health", "/", "9000"], None, None)
    assert [e.argv for e in p.execs] == [["app", "--version"], ["x", "a b"]]
    assert [(h.port, h.path) for h in p.service.http] == [(8080, "/health"), (None, "/"),
                                                          (9000, "/")]
    assert probes.parse([], [], None, None).execs[0].argv is None      # the entrypoint
    for bad in ("http://x", "99999/", ""):
        with pytest.raises(BadInput, match="--http-probe"):
            probes.parse([], [bad], None, None)
    with pytest.raises(BadInput, match="say which port"):
        probes.resolve_ports(probes.parse([], ["/"], None, None).service,
                             {"config": {"ExposedPorts": {"80/tcp": {}, "443/tcp": {}}}})
