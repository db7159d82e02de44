"""The tar walker (slimscope.index.tarwalk): the same index as `tarfile` on every
form of header, and strict where tarfile's stream mode is silent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time

import pytest

from slimscope.errors import BadInput
from slimscope.index.bodies import fill_digests
from slimscope.index.streams import RangeReader
from slimscope.index.tarwalk import index_range, index_tar
from tests.support.synth import docker_archive, layer_tar
from tests.unit.tarfile_walk import tarfile_index

COLUMNS = ("paths", "kinds", "sizes", "modes", "uids", "gids", "mtimes", "digests", "links")


def both(data: bytes, hashing: bool = True):
    new = index_tar(io.BytesIO(data), hashing)
    old = tarfile_index(io.BytesIO(data), hashing)
    for col in COLUMNS:
        assert getattr(new, col) == getattr(old, col), col
    return new


def odd_tar(fmt: int) -> bytes:
    """Every header form a writer may use in one format."""
    buf = io.BytesIO()
    ustar = fmt == tarfile.USTAR_FORMAT  # names split into prefix and name: each part bounded
    long_dir = "deep/" + "/".join(f"segment{i:02d}" for i in range(12 if ustar else 20))
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        def add(name, type_=tarfile.REGTYPE, data=b"", **kw):
            ti = tarfile.TarInfo(name)
            ti.type, ti.size, ti.mtime, ti.mode = type_, len(data), 1_700_000_000, 0o644
            for k, v in kw.items():
                setattr(ti, k, v)
            tf.addfile(ti, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
        add("etc", tarfile.DIRTYPE, mode=0o755)
        add("etc/hosts", data=b"127.0.0.1 localhost\n" * 40)
        add("usr/share/" + "n" * (90 if ustar else 120) + ".txt", data=b"long name")  # prefix (ustar) or L/path
        add(long_dir + "/file", data=b"x" * 513)
        add("a dir with spaces/caf\u00e9 \u2603.txt", data=b"unicode")
        add("odd/ends with space ", data=b"")
        add("bin/sh", tarfile.SYMTYPE, linkname="busybox" if ustar else "/usr/lib/" + "t" * 110)
        add("bin/ash", tarfile.LNKTYPE, linkname="etc/hosts")
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
        add("run/fifo", tarfile.FIFOTYPE)
        add("var/.wh.gone", data=b"")
        add("var/cache/.wh..wh..opq", data=b"")
        add("var/.wh..wh.plnk", data=b"")
        add("srv/exact-block", data=bytes(range(256)) * 8)
        if not ustar:
            add("home/big-ids", data=b"ids", uid=3_000_000_000, gid=2_100_000_000)
            add("home/old", data=b"old", mtime=-1)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("hashing", [True, False])
def test_same_index_as_tarfile_on_every_header_form(fmt, hashing):
    idx = both(odd_tar(fmt), hashing)
    assert any(p.startswith("/usr/share/nnnn") and len(p) > 100 for p in idx.paths)
    assert "/a dir with spaces/caf\u00e9 \u2603.txt" in idx.paths
    assert len(idx) == (15 if fmt != tarfile.USTAR_FORMAT else 13)


def test_same_index_on_the_synthetic_layers_and_bench_images(tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    import gen
    for i, ops in enumerate(gen.small_files_layers(3000, 4)):
        p = tmp_path / f"l{i}.tar"
        gen.write_layer(str(p), ops)
        both(p.read_bytes())
    both(layer_tar([("a", "dir"), ("a/b", "file", b"1" * 700, 0o600, (5, 6)),
                    ("a/l", "symlink", "b"), ("a/h", "hardlink", "a/b"),
                    ("a/.wh.c", "whiteout"), ("a/.wh..wh..opq", "opaque"), ("p", "fifo")]))


def test_gnu_long_name_and_link():
    data = odd_tar(tarfile.GNU_FORMAT)
    assert b"././@LongLink" in data
    idx = both(data)
    i = idx.paths.index("/bin/sh")
    assert idx.links[i] == "/usr/lib/" + "t" * 110


def test_pax_path_size_and_times():
    data = odd_tar(tarfile.PAX_FORMAT)
    idx = both(data)
    j = idx.paths.index("/home/big-ids")
    assert (idx.uids[j], idx.gids[j]) == (3_000_000_000, 2_100_000_000)
    assert idx.mtimes[idx.paths.index("/home/old")] == -1


def test_hardlinks_keep_their_target():
    idx = both(layer_tar([("etc/a", "file", b"abc"), ("etc/b", "hardlink", "etc/a")]))
    assert idx.links[1] == "/etc/a"


def test_a_tar_without_end_blocks_is_complete():
    data = layer_tar([("a", "file", b"x" * 10)])
    cut = data[:1024]  # header + one body block, no end-of-archive blocks
    assert index_tar(io.BytesIO(cut)).paths == ["/a"]


def _header(name: bytes, type_: bytes, size: int) -> bytes:
    block = bytearray(512)
    block[:len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:124] = b"0000000\0" * 2
    block[124:136] = b"%011o\0" % size
    block[136:148] = b"14544411000\0"
    block[156:157] = type_
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def test_checksum_flips_are_corrupt():
    data = bytearray(layer_tar([("a", "file", b"1"), ("b", "file", b"2"), ("c", "file", b"3")]))
    good = index_tar(io.BytesIO(bytes(data)))
    assert len(good) == 3
    start = data.find(b"b\0\0\0")  # the second entry's header (after a PAX header or not)
    for bit in range(8):
        bad = bytearray(data)
        bad[start] ^= 1 << bit
        with pytest.raises(BadInput, match="checksum"):
            index_tar(io.BytesIO(bytes(bad)), what="layer L")


def test_huge_extended_header_is_refused_without_reading_it():
    data = _header(b"././@PaxHeader", b"x", 5 << 30) + bytes(1024)
    t = time.monotonic()
    with pytest.raises(BadInput, match="extended header declares 5368709120 bytes"):
        index_tar(io.BytesIO(data))
    assert time.monotonic() - t < 1


def test_sparse_is_refused_clearly():
    data = _header(b"sparse.img", b"S", 0) + bytes(1024)
    with pytest.raises(BadInput, match="sparse"):
        index_tar(io.BytesIO(data))
    pax = b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n"
    data = (_header(b"././@PaxHeader", b"x", len(pax)) + pax.ljust(512, b"\0")
            + _header(b"file", b"0", 0) + bytes(1024))
    with pytest.raises(BadInput, match="sparse"):
        index_tar(io.BytesIO(data))


@pytest.mark.parametrize("cut", [700, 1300, 1600])  # in a header, in a body, in padding
def test_truncation_is_corrupt(cut):
    data = layer_tar([("a", "file", b"x" * 600), ("b", "file", b"y" * 1000)])
    with pytest.raises(BadInput, match="truncated"):
        index_tar(io.BytesIO(data[:cut]))


# -- a layer inside a file, read with pread (index_range) ----------------------------

def _in_a_file(tmp_path, data: bytes, before: int = 3000, after: bytes = b"junk" * 300):
    p = tmp_path / "archive"
    p.write_bytes(os.urandom(before) + data + after)
    return open(p, "rb"), before, len(data)


def _big_bodies() -> bytes:
    return layer_tar([("d", "dir"), ("d/small", "file", b"s" * 900),
                      ("d/big", "file", os.urandom(70_000)), ("d/after", "file", b"a" * 5000),
                      ("d/big2", "file", os.urandom(200_000)), ("d/l", "symlink", "big"),
                      ("d/.wh.gone", "whiteout")])


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_range_reads_the_index_a_stream_reads(tmp_path, fmt):
    for data in (odd_tar(fmt), _big_bodies()):
        want = index_tar(io.BytesIO(data), True)
        f, offset, size = _in_a_file(tmp_path, data)
        with f:
            for hashing in (True, False):
                got = index_range(f, offset, size, hashing)
                cols = COLUMNS if hashing else tuple(c for c in COLUMNS if c != "digests")
                for col in cols:
                    assert getattr(got, col) == getattr(want, col), col
            lazy = index_range(f, offset, size, True, lazy=True)
            streamed = index_tar(RangeReader(f, offset, size), True, lazy=True)
            assert lazy.offsets == streamed.offsets
            if lazy.lazy:   # the big bodies: noted where they start, then read from there
                assert any(o >= 0 for o in lazy.offsets)
                fill_digests(RangeReader(f, offset, size), lazy, range(len(lazy)))
            for col in COLUMNS:
                assert getattr(lazy, col) == getattr(want, col), col


@pytest.mark.parametrize("cut", [700, 1300, 1600, 40_000])  # header, body, padding, skipped body
def test_range_past_the_end_of_its_file_is_truncated(tmp_path, cut):
    data = layer_tar([("a", "file", b"x" * 600), ("b", "file", b"y" * 1000),
                      ("c", "file", os.urandom(70_000))])
    f, offset, size = _in_a_file(tmp_path, data[:cut], after=b"")
    with f:
        for hashing, lazy in ((True, False), (True, True), (False, False)):
            with pytest.raises(BadInput, match="truncated"):
                index_range(f, offset, len(data), hashing, lazy=lazy)


# -- through the command: one line, exit 2, naming the layer ------------------------

def cli(*args):
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, env={**os.environ, "SLIMSCOPE_NO_CACHE": "1"}, timeout=60)


def layer_member(archive: str) -> str:
    with tarfile.open(archive) as tf:
        return next(n for n in tf.getnames() if n.endswith("/layer.tar"))


def assert_exit2(archive: str, match: str):
    r = cli("analyze", archive)
    assert r.returncode == 2, (r.stdout, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, r.stderr
    assert layer_member(archive) in line and match in line, line


def many_files():
    return [(f"f{i:03d}", "file", b"data %d\n" % i * 30) for i in range(300)]


def test_cli_flipped_header_bit_names_the_layer(tmp_path):
    tar = bytearray(layer_tar(many_files()))
    pos = tar.find(b"f100")
    tar[pos + 1] ^= 0x04
    assert_exit2(docker_archive(str(tmp_path / "flip.tar"), [bytes(tar)]), "checksum")


def test_cli_layer_cut_mid_body_names_the_layer(tmp_path):
    tar = layer_tar(many_files())
    cut = tar[:tar.find(b"f150") + 512 + 100]
    assert_exit2(docker_archive(str(tmp_path / "cut.tar"), [cut]), "truncated")


def test_cli_huge_pax_header_is_quick(tmp_path):
    tar = _header(b"././@PaxHeader", b"x", 5 << 30) + bytes(4096)
    t = time.monotonic()
    assert_exit2(docker_archive(str(tmp_path / "pax.tar"), [tar]), "extended header")
    assert time.monotonic() - t < 30


# -- members(): an image archive's own tar, listed from its headers ------------------

def _listed_by_tarfile(data: bytes):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
        return [(ti.name, ti.type, ti.offset_data, ti.size, ti.linkname, ti.issparse())
                for ti in tf]


def _listed(data: bytes):
    from slimscope.index.tarlist import members
    return [(m.name, bytes([m.flag]) if m.flag else b"0", m.offset, m.size, m.link, m.sparse)
            for m in members(io.BytesIO(data))]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_members_lists_an_archive_as_tarfile_does(fmt):
    buf = io.BytesIO()
    long = "blobs/sha256/" + "d" * 120
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in [("manifest.json", b"[]"), ("abc/layer.tar", b"x" * 1500),
                           (long if fmt != tarfile.USTAR_FORMAT else "blobs/x", b"y" * 10)]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        d = tarfile.TarInfo("abc")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
        link = tarfile.TarInfo("def/layer.tar")
        link.type = tarfile.SYMTYPE
        link.linkname = "../abc/layer.tar"
        tf.addfile(link)
    data = buf.getvalue()
    assert _listed(data) == _listed_by_tarfile(data)


def test_members_lists_the_samples_as_tarfile_does():
    for name in ("demo.tar", "demo.oci.tar"):
        data = open(os.path.join(os.path.dirname(__file__), "..", "..", "sample-images", name),
                    "rb").read()
        assert _listed(data) == _listed_by_tarfile(data), name


def test_members_refuses_what_it_cannot_read():
    from slimscope.index.tarlist import members
    data = bytearray(docker_archive_bytes())
    data[150] ^= 0x10   # a header's checksum field
    with pytest.raises(ValueError):
        list(members(io.BytesIO(bytes(data))))
    with pytest.raises(ValueError):
        list(members(io.BytesIO(docker_archive_bytes()[:700])))


def docker_archive_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("a" * 150)   # a PAX header first
        ti.size = 3
        tf.addfile(ti, io.BytesIO(b"abc"))
    return buf.getvalue()


def test_digests_agree_across_the_switch_to_openssl(monkeypatch, tmp_path):
    """Bodies are hashed by CPython's sha256 until its room is used up, then by
    OpenSSL's: every digest is the same either side of the switch, in a walk and in a
    lazy fill, and only the bodies hashed use the room up."""
    import hashlib

    from slimscope.index import digests
    from slimscope.index.records import FILE
    bodies = {f"f{i}": bytes([i]) * (700 + 300 * i) for i in range(12)}
    bodies["big"] = b"x" * (40 << 10)           # lazy: hashed later, by fill_digests
    path = tmp_path / "layer.tar"
    path.write_bytes(layer_tar([(k, "file", v) for k, v in bodies.items()]))
    want = {"/" + k: hashlib.sha256(v).digest() for k, v in bodies.items()}
    small = sum(len(v) for k, v in bodies.items() if k != "big")
    for room, used_walking, used in ((0, 0, 0), (2500, 2500, 2500),
                                     (1 << 30, small, small + (40 << 10))):
        monkeypatch.setattr(digests, "_room", [room])
        with open(path, "rb") as f:
            idx = index_range(f, 0, os.path.getsize(path), lazy=True)
            assert room - digests._room[0] == used_walking
            fill_digests(f, idx, range(len(idx)))
            assert room - digests._room[0] == used
        got = {idx.paths[i]: bytes(idx.digests[i * 32:(i + 1) * 32])
               for i in range(len(idx)) if idx.kinds[i] == FILE}
        assert got == want
