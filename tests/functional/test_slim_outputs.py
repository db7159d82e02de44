"""Where `slim -o` may write: never over its source under any name, never over
what is not a file or a layout, never over what another run just wrote."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.errors import BadInput
from slimscope.slim import destinations
from tests.golden.cases import ROOT, TAR


@pytest.fixture()
def src(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "app.tar"
    shutil.copy(os.path.join(ROOT, TAR), copy)
    return copy


def _slim(*args):
    return CliRunner().invoke(main, ["slim", *map(str, args)])


def test_the_source_is_refused_under_any_name(src, tmp_path):
    before = src.read_bytes()
    link = tmp_path / "link.tar"
    link.symlink_to(src)
    hard = tmp_path / "hard.tar"
    os.link(src, hard)
    for image, out in ((link, src), (src, link), (src, hard), (link, link)):
        r = _slim(image, "-o", out, "--force")
        assert r.exit_code == 2 and "is the source itself" in r.output, (image, out, r.output)
    assert src.read_bytes() == before and link.is_symlink()


def test_a_symlinked_output_is_followed(src, tmp_path):
    real = tmp_path / "real.tar"
    real.write_bytes(b"old")
    link = tmp_path / "out.tar"
    link.symlink_to(real)
    r = _slim(src, "-o", link, "--force")
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and real.stat().st_size > 1_000_000


def test_a_device_is_refused(src):
    r = _slim(src, "-o", "/dev/null", "--force")
    assert r.exit_code == 2 and "not a regular file or a directory" in r.output
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_without_force_the_name_is_claimed_atomically(tmp_path):
    for make in (lambda p: p.write_bytes(b"staged"), lambda p: p.mkdir()):
        staged, out = tmp_path / "staged", tmp_path / "out"
        make(staged)
        out.write_text("written by another run meanwhile")
        with pytest.raises(BadInput, match="appeared while slimming"):
            destinations.commit_path(str(staged), str(out), force=False)
        assert out.read_text() == "written by another run meanwhile"
        out.unlink()
        destinations.commit_path(str(staged), str(out), force=False)
        assert out.exists() and not staged.exists()
        shutil.rmtree(out) if out.is_dir() else out.unlink()


def test_ctrl_c_after_the_output_is_written_says_so(src, tmp_path, monkeypatch):
    from slimscope.slim import report

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "build", interrupted)
    out = tmp_path / "out.tar"
    r = _slim(src, "-o", out)
    assert r.exit_code == 130
    assert f"interrupted after writing {out} (complete and verified" in r.output
    assert out.stat().st_size > 1_000_000
