"""`slim -o` names that cannot be written are one line, not an 'unexpected error'."""

from __future__ import annotations

import os

from tests.support.hostile import one_line_error, run_cli
from tests.support.synth import docker_archive

LAYERS = [[("etc", "dir"), ("etc/a", "file", b"a")]]


def test_missing_parent_is_one_line(tmp_path):
    src = docker_archive(str(tmp_path / "in.tar"), LAYERS)
    line = one_line_error(run_cli("slim", src, "--via", "offline",
                                  "-o", str(tmp_path / "nope" / "x.tar")))
    assert "does not exist" in line
    assert sorted(os.listdir(tmp_path)) == ["in.tar"]


def test_trailing_slash_of_a_new_name(tmp_path):
    src = docker_archive(str(tmp_path / "in.tar"), LAYERS)
    r = run_cli("slim", src, "--via", "offline", "--format", "oci",
                "-o", str(tmp_path / "layout") + "/")
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(tmp_path / "layout" / "index.json")
