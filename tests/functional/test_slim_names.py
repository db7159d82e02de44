"""What `slim -o` writes carries a name: the source's, --tag's or --name's."""

from __future__ import annotations

import json
import tarfile

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from tests.golden.cases import OCI, ROOT, TAR


def _slim(*args):
    r = CliRunner().invoke(main, ["slim", *map(str, args)])
    return r


def _repo_tags(path):
    with tarfile.open(path) as tf:
        return json.load(tf.extractfile("manifest.json"))[0]["RepoTags"]


def _annotations(layout):
    return json.loads((layout / "index.json").read_text())["manifests"][0]["annotations"]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))


def test_an_archive_keeps_the_source_name_or_takes_name(tmp_path):
    assert _slim(TAR, "-o", tmp_path / "a.tar").exit_code == 0
    assert _repo_tags(tmp_path / "a.tar") == ["slimscope-sample/demo:latest"]
    assert _slim(TAR, "-o", tmp_path / "b.tar", "--name", "demo:slim").exit_code == 0
    assert _repo_tags(tmp_path / "b.tar") == ["demo:slim"]


def test_a_layout_is_found_by_its_tag(tmp_path):
    assert _slim(OCI, "-o", tmp_path / "l", "--format", "oci").exit_code == 0
    assert _annotations(tmp_path / "l") == {"org.opencontainers.image.ref.name": "latest"}
    r = _slim(OCI, "-o", tmp_path / "m", "--format", "oci", "--name", "registry.local/app:2")
    assert r.exit_code == 0, r.output
    assert _annotations(tmp_path / "m") == {"io.containerd.image.name": "registry.local/app:2",
                                            "org.opencontainers.image.ref.name": "2"}


@pytest.mark.parametrize("args,message", [
    (["--name", "Bad Name", "-o", "x.tar"], "--name 'Bad Name' is not a valid image reference"),
    (["--name", "x:1", "--dry-run"], "--name names the file or layout -o writes"),
])
def test_bad_names(tmp_path, args, message):
    r = _slim(TAR, *args)
    assert r.exit_code == 2 and message in r.output
