"""The user's files: replaced atomically, never a device or a link swapped away."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from slimscope.errors import BadInput
from slimscope.fileio import write_atomic, write_atomic_with


def test_a_new_file_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "r.json"), b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.json").st_mode) == 0o640
    assert (tmp_path / "r.json").read_bytes() == b"{}"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("old")
    os.chmod(p, 0o604)
    write_atomic(str(p), b"new")
    assert p.read_text() == "new" and stat.S_IMODE(os.stat(p).st_mode) == 0o604


def test_a_symlink_stays_and_its_target_is_written(tmp_path):
    target = tmp_path / "real.xml"
    target.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    write_atomic(str(link), b"new")
    assert link.is_symlink() and target.read_text() == "new"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "not-yet")
    write_atomic(str(dangling), b"x")
    assert dangling.is_symlink() and (tmp_path / "not-yet").read_bytes() == b"x"


def test_a_character_device_is_written_through_not_replaced():
    before = os.stat("/dev/null")
    write_atomic("/dev/null", b"report")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    with pytest.raises(BadInput, match="cannot write /dev/full: No space left on device"):
        write_atomic("/dev/full", b"report")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_atomic(str(fifo), b"streamed")
    reader.join(10)
    assert got == [b"streamed"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize("name,message", [
    ("", "the output path is empty"),
    ("dir/", "it is a directory"),
    ("missing/r.json", "No such file or directory"),
])
def test_bad_paths_are_one_line(tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(BadInput, match=message):
        write_atomic(name, b"x")


def test_without_force_an_existing_file_is_kept(tmp_path):
    p = tmp_path / "r.json"
    write_atomic(str(p), b"first", force=False)
    with pytest.raises(BadInput, match="exists; pass --force"):
        write_atomic(str(p), b"second", force=False)
    assert p.read_bytes() == b"first"
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_a_report_written_as_it_is_made_replaces_only_when_complete(tmp_path):
    out = tmp_path / "report.json"
    out.write_text("old")

    def fails(f):
        f.write(b"half a rep")
        raise RuntimeError("the producer broke")
    with pytest.raises(RuntimeError):
        write_atomic_with(str(out), fails)
    assert out.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.json"]   # no temporary left behind

    def chunks(f):
        for k in range(3):
            f.write(b"part %d\n" % k)
    write_atomic_with(str(out), chunks)
    assert out.read_bytes() == b"part 0\npart 1\npart 2\n"
