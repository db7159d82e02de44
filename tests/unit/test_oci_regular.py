"""An OCI layout is read only through regular files inside it: a FIFO, a device, a
directory or a symlink loop where a blob should be is one line, never a hang."""

from __future__ import annotations

import os

import pytest

from tests.support.hostile import one_line_error, run_cli
from tests.support.synth import oci_layout

LAYERS = [[("etc", "dir"), ("etc/conf", "file", b"c" * 100)]]


def _layer_blob(d: str) -> str:
    import json
    with open(os.path.join(d, "index.json")) as f:
        top = json.load(f)["manifests"][0]["digest"].split(":")[1]
    with open(os.path.join(d, "blobs", "sha256", top)) as f:
        return os.path.join(d, "blobs", "sha256", json.load(f)["layers"][0]["digest"].split(":")[1])


def _index_json(d: str) -> str:
    return os.path.join(d, "index.json")


def _replace_with(path: str, how: str) -> None:
    os.unlink(path)
    if how == "fifo":
        os.mkfifo(path)
    elif how == "dev-zero":
        os.symlink("/dev/zero", path)
    elif how == "directory":
        os.mkdir(path)
    elif how == "loop":
        os.symlink(os.path.basename(path), path)
    elif how == "outside":
        os.symlink("/etc/hostname", path)


@pytest.mark.parametrize("how", ["fifo", "dev-zero", "directory", "loop", "outside"])
@pytest.mark.parametrize("which", ["layer", "index"])
def test_layout_blob_that_is_no_regular_file(tmp_path, how, which):
    d = oci_layout(str(tmp_path / "img"), LAYERS, "gzip")
    _replace_with(_layer_blob(d) if which == "layer" else _index_json(d), how)
    line = one_line_error(run_cli("analyze", d, timeout=30))
    assert d in line


def test_layout_with_symlinked_blob_inside_still_reads(tmp_path):
    d = oci_layout(str(tmp_path / "img"), LAYERS, "gzip")
    blob = _layer_blob(d)
    os.rename(blob, os.path.join(d, "moved"))
    os.symlink(os.path.join("..", "..", "moved"), blob)
    r = run_cli("analyze", d, "--format", "json")
    assert r.returncode == 0, r.stderr
