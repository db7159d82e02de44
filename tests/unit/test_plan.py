"""`slim` planning without an engine: glob semantics, presets, bytes per rule, and
the offline writer on a hand-made archive (hardlink whose first name goes, xattrs)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.core.analysis import analyze
from slimscope.slim.plan import Rule, make_plan

CAP = b"\x01\x00\x00\x02\x00\x04\x00\x00" + bytes(12)   # cap_net_bind_service+ep


@pytest.mark.parametrize("glob,path,hit", [
    ("/tmp/*", "/tmp/a", True),
    ("/tmp/*", "/tmp", False),
    ("/tmp/*", "/var/tmp/a", False),
    ("__pycache__", "/usr/lib/python3/__pycache__", True),
    ("__pycache__", "/__pycache__", True),
    ("*.log", "/var/log/x.log", True),
    ("/var/*.log", "/var/log/x.log", False),
    ("/var/**.log", "/var/log/x.log", True),
    ("/usr/**/doc", "/usr/share/doc", True),
    ("/usr/**/doc", "/usr/doc", True),
    ("/a?c", "/abc", True),
    ("/a[bx]c", "/axc", True),
    ("/a[!bx]c", "/abc", False),
])
def test_glob_semantics(glob, path, hit):
    assert Rule("t", "", [glob]).matches(path) is hit


def test_negated_glob_keeps():
    r = Rule("t", "", ["/var/lib/apt/lists/*", "!/var/lib/apt/lists/partial"])
    assert r.matches("/var/lib/apt/lists/deb.debian.org_x")
    assert not r.matches("/var/lib/apt/lists/partial")


def _entry(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", pax=None, uid=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.linkname, ti.uid = kind, mode, 1_700_000_000, link, uid
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    if pax:
        ti.pax_headers = pax
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _layer(entries) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            tf.addfile(*_entry(*e[:2], **e[2]) if len(e) > 2 else _entry(*e))
    return buf.getvalue()


def _archive(path, layers, config_extra=None):
    """A docker-save archive (manifest.json layout) made by hand."""
    blobs = {}
    diff_ids = []
    for data in layers:
        h = hashlib.sha256(data).hexdigest()
        blobs[f"{h}/layer.tar"] = data
        diff_ids.append("sha256:" + h)
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"], "Env": ["A=1"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "history": [{"created_by": f"step {i}"} for i in range(len(layers))]}
    cfg.update(config_extra or {})
    cfg_bytes = json.dumps(cfg).encode()
    ch = hashlib.sha256(cfg_bytes).hexdigest()
    blobs[f"{ch}.json"] = cfg_bytes
    blobs["manifest.json"] = json.dumps([{"Config": f"{ch}.json", "RepoTags": ["hand:made"],
                                          "Layers": [f"{hashlib.sha256(d).hexdigest()}/layer.tar"
                                                     for d in layers]}]).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in blobs.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return str(path)


@pytest.fixture()
def hand_archive(tmp_path):
    cap = {"SCHILY.xattr.security.capability": CAP.decode("utf-8", "surrogateescape")}
    l0 = _layer([
        ("d", tarfile.DIRTYPE, {"mode": 0o755}),
        ("d/body", tarfile.REGTYPE, {"data": b"B" * 5000}),
        ("d/twin", tarfile.LNKTYPE, {"link": "d/body"}),
        ("d/third", tarfile.LNKTYPE, {"link": "d/body"}),
        ("d/cap", tarfile.REGTYPE, {"data": b"#!/bin/sh\n", "mode": 0o4755, "pax": cap}),
        ("d/gone", tarfile.REGTYPE, {"data": b"G" * 7000}),
        ("tmp", tarfile.DIRTYPE, {"mode": 0o1777}),
        ("tmp/junk", tarfile.REGTYPE, {"data": b"J" * 3000}),
        ("d/null", tarfile.CHRTYPE, {"mode": 0o666}),
        ("d/empty", tarfile.DIRTYPE, {"mode": 0o700, "uid": 1000}),
        ("d/sym", tarfile.SYMTYPE, {"link": "../nowhere"}),
    ])
    l1 = _layer([
        ("d/.wh.body", tarfile.REGTYPE, {}),
        ("d/.wh.gone", tarfile.REGTYPE, {}),
    ])
    return _archive(tmp_path / "in.tar", [l0, l1])


def test_plan_bytes_per_rule(hand_archive):
    a = analyze(hand_archive, use_cache=False)
    plan = make_plan(a, removes=["/d/twin"], presets=["tmp"])
    rules = {r.name: r for r in plan.rules}
    assert rules["preset:tmp"].bytes == 3000 and rules["preset:tmp"].paths == 1
    # /d/twin shares its body with /d/third, which stays: nothing freed, body moves
    assert rules["remove:/d/twin"].bytes == 0
    assert plan.survivors["/d/twin"] == ["/d/third"]
    assert "/tmp" not in plan.removed


def test_offline_keeps_metadata_and_moves_hardlink_bodies(hand_archive, tmp_path):
    out = tmp_path / "out.tar"
    r = CliRunner().invoke(main, ["slim", hand_archive, "-o", str(out), "--remove", "/d/twin",
                                  "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["after"]["layers"] == 1 and doc["verified"]
    saved = {s["reason"]: s["bytes"] for s in doc["saved"]}
    assert saved["hidden deletions"] == 7000
    with tarfile.open(out) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        layer = outer.extractfile(manifest[0]["Layers"][0]).read()
        cfg = json.load(outer.extractfile(manifest[0]["Config"]))
    assert cfg["config"] == {"Cmd": ["sh"], "Env": ["A=1"]}
    assert len(cfg["rootfs"]["diff_ids"]) == 1
    assert [h.get("empty_layer", False) for h in cfg["history"]] == [True, True, False]
    with tarfile.open(fileobj=io.BytesIO(layer), encoding="utf-8",
                      errors="surrogateescape") as tf:
        members = {m.name: m for m in tf.getmembers()}
    # the body's first name was deleted, its twin removed: /d/third carries it now
    assert members["d/third"].isreg() and members["d/third"].size == 5000
    assert "d/twin" not in members and "d/body" not in members and "d/gone" not in members
    cap = members["d/cap"]
    assert cap.mode & 0o7777 == 0o4755
    assert cap.pax_headers["SCHILY.xattr.security.capability"].encode(
        "utf-8", "surrogateescape") == CAP
    assert members["d/null"].ischr()
    assert members["d/empty"].isdir() and members["d/empty"].uid == 1000
    assert members["tmp"].mode & 0o7777 == 0o1777
    assert members["d/sym"].linkname == "../nowhere"
    names = list(members)
    assert names.index("d") < names.index("d/cap")   # parents before children


def test_dry_run_changes_nothing(hand_archive, tmp_path):
    out = tmp_path / "never.tar"
    r = CliRunner().invoke(main, ["slim", hand_archive, "-o", str(out), "--preset", "tmp",
                                  "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "preset:tmp" in r.output and "/tmp/junk" in r.output
    assert "hidden deletions" in r.output
    assert not out.exists()


def test_refuses_existing_output_without_force(hand_archive, tmp_path):
    out = tmp_path / "exists.tar"
    out.write_bytes(b"precious")
    r = CliRunner().invoke(main, ["slim", hand_archive, "-o", str(out)])
    assert r.exit_code == 2 and "--force" in r.output
    assert out.read_bytes() == b"precious"
    r = CliRunner().invoke(main, ["slim", hand_archive, "-o", str(out), "--force"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() != b"precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".slimscope")] == []


@pytest.mark.parametrize("args,needle", [
    (["slim", "/nonexistent/x.tar", "-o", "/tmp/x.tar"], "no such file"),
    (["slim", "{src}"], "--tag"),
    (["slim", "{src}", "-o", "{src}", "--force"], "source itself"),
    (["slim", "{src}", "-o", "/tmp/x.tar", "--base-layers", "1"], "--keep-base"),
    (["slim", "{src}", "-o", "/tmp/x.tar", "--keep-base", "--base-layers", "7"], "has 2 layers"),
    (["slim", "{src}", "-o", "/nonexistent-dir/x.tar"], "does not exist"),
    (["slim", "{src}", "--format", "oci", "--tag", "a:b"], "-o DIR"),
])
def test_bad_input_is_one_line_exit_2(hand_archive, args, needle):
    args = [a.replace("{src}", hand_archive) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output


def test_oci_layout_output_and_keep_base(hand_archive, tmp_path):
    out = tmp_path / "layout"
    r = CliRunner().invoke(main, ["slim", hand_archive, "-o", str(out), "--format", "oci",
                                  "--keep-base", "--base-layers", "1", "--remove", "/d/cap"])
    assert r.exit_code == 0, r.output
    a_in = analyze(hand_archive, use_cache=False)
    a_out = analyze(f"oci:{out}", use_cache=False)
    assert a_out.layers[0].diff_id == a_in.layers[0].diff_id
    assert len(a_out.layers) == 2
    assert a_out.entry("/d/cap") is None and a_out.entry("/d/third").size == 5000
    assert a_out.entry("/d/body") is None
