"""Images that no engine would apply as their entries say are refused with one line,
by the analysis and so by every command that writes an image from it."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from tests.support.hostile import one_line_error, run_cli
from tests.support.synth import docker_archive


def _raw_tar(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo("x")
            ti.name = name  # tarfile would turn "" into "." otherwise
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


CASES = {
    "through-symlink": ([[("link", "symlink", "/etc")], [("link/evil", "file", b"x")]],
                        "passes through the symlink /link"),
    "through-symlink-same-layer": ([[("link", "symlink", "/etc"), ("link/evil", "file", b"x")]],
                                   "passes through the symlink /link"),
    "through-relative-symlink": ([[("a", "dir"), ("a/l", "symlink", "../../etc")],
                                  [("a/l/x/y", "file", b"x")]], "passes through the symlink /a/l"),
    "under-a-file": ([[("f", "file", b"x")], [("f/g", "file", b"y")]], "not a directory"),
    "file-at-root-dot": ([_raw_tar((".", b"data"))], "make the root directory a file"),
    "whiteout-of-root": ([[("etc/x", "file", b"x")], [(".wh.", "whiteout")]],
                         "whiteout of '/'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["analyze", "slim"])
def test_refused(tmp_path, case, command):
    layers, needle = CASES[case]
    src = docker_archive(str(tmp_path / "in.tar"), layers)
    before = open(src, "rb").read()
    args = ["analyze", src] if command == "analyze" else \
        ["slim", src, "--via", "offline", "-o", str(tmp_path / "out.tar")]
    line = one_line_error(run_cli(*args))
    assert needle in line
    assert not os.path.exists(tmp_path / "out.tar")
    assert open(src, "rb").read() == before


def test_symlink_replaced_by_dir_later_is_fine(tmp_path):
    # a directory restated over the link in a later layer is what the engine writes into
    layers = [[("link", "symlink", "/etc")], [("link", "dir"), ("link/ok", "file", b"x")]]
    src = docker_archive(str(tmp_path / "in.tar"), layers)
    r = run_cli("analyze", src, "--format", "json")
    assert r.returncode == 0, r.stderr


def test_opaque_root_is_still_accepted(tmp_path):
    layers = [[("etc/x", "file", b"x")], [(".wh..wh..opq", "opaque"), ("y", "file", b"y")]]
    src = docker_archive(str(tmp_path / "in.tar"), layers)
    assert run_cli("analyze", src).returncode == 0
