"""Wrong-typed image documents are refused at the source with one line naming the
file and the key, never an AttributeError dressed as a message."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from tests.support.hostile import one_line_error, run_cli
from tests.support.synth import config_for, docker_archive, layer_tar, oci_layout

LAYER = [("etc", "dir"), ("etc/conf", "file", b"c" * 100)]


def _archive(path, manifest, config_bytes=None):
    tar = layer_tar(LAYER)
    cfg = config_bytes if config_bytes is not None else json.dumps(config_for([tar])).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("l0/layer.tar", tar), ("cfg.json", cfg),
                           ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return str(path)


GOOD = {"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": ["l0/layer.tar"]}


@pytest.mark.parametrize("manifest,needle", [
    (7, "manifest.json is not a JSON object"),
    (None, "manifest.json is not a JSON object"),
    ({"a": 1}, "manifest.json must be a list of images"),
    ([3], "manifest.json [0] must be an object"),
    ([{**GOOD, "Layers": "l0/layer.tar"}], '"Layers" must be a list of paths'),
    ([{**GOOD, "Layers": [1]}], '"Layers" must be a list of paths'),
    ([{**GOOD, "Config": 5}], '"Config" must be the path of the config'),
    ([{**GOOD, "RepoTags": "x:1"}], '"RepoTags" must be a list of strings'),
    ([{**GOOD, "Layers": ["l0/layer.tar"] * 70000}], "more than 4096"),
])
def test_docker_manifest_shapes(tmp_path, manifest, needle):
    line = one_line_error(run_cli("analyze", _archive(tmp_path / "a.tar", manifest)))
    assert needle in line and "manifest.json" in line


@pytest.mark.parametrize("config,needle", [
    ({"rootfs": "layers"}, '"rootfs" must be an object'),
    ({"rootfs": {"diff_ids": "x"}}, '"diff_ids" must be a list of strings'),
    ({"rootfs": {"diff_ids": []}, "history": {"a": 1}}, '"history" must be a list of objects'),
    ({"rootfs": {"diff_ids": []}, "history": [{"created_by": 3}]}, '"created_by" must be a string'),
    ({"rootfs": {"diff_ids": []}, "config": {"Env": "A=1"}}, '"Env" must be a list of strings'),
    ({"rootfs": {"diff_ids": []}, "architecture": ["amd64"]}, '"architecture" must be a string'),
])
def test_config_shapes(tmp_path, config, needle):
    path = _archive(tmp_path / "a.tar", [GOOD], json.dumps(config).encode())
    line = one_line_error(run_cli("analyze", path))
    assert needle in line and "cfg.json" in line


def test_deep_nesting_is_one_line(tmp_path):
    path = _archive(tmp_path / "a.tar", [GOOD], b"[" * 200000 + b"]" * 200000)
    assert "nests too deep" in one_line_error(run_cli("analyze", path))


def _rewrite_oci_index(d, doc):
    with open(f"{d}/index.json", "w") as f:
        json.dump(doc, f)


@pytest.mark.parametrize("index,needle", [
    ([], "index.json is not a JSON object"),
    ({"manifests": 5}, '"manifests" must be a list of descriptors'),
    ({"manifests": [7]}, "manifests[0] must be an object"),
    ({"manifests": [{"digest": 7}]}, '"digest" must be a string'),
    ({"manifests": [{"digest": "sha256:" + "0" * 64, "platform": "linux"}]},
     '"platform" must be an object'),
    ({"manifests": [{"digest": "sha256:" + "0" * 64, "annotations": {"a": 1}}]},
     '"annotations" must be an object of strings'),
])
def test_oci_index_shapes(tmp_path, index, needle):
    d = oci_layout(str(tmp_path / "img"), [LAYER], "gzip")
    _rewrite_oci_index(d, index)
    line = one_line_error(run_cli("analyze", d))
    assert needle in line and "index.json" in line


def test_nan_in_baseline_report(tmp_path):
    good = run_cli("analyze", docker_archive(str(tmp_path / "a.tar"), [LAYER]),
                   "--format", "json", "--files")
    assert good.returncode == 0, good.stderr
    doc = good.stdout.replace('"final_bytes": ', '"final_bytes": NaN, "x": ', 1)
    (tmp_path / "base.json").write_text(doc)
    line = one_line_error(run_cli("diff", str(tmp_path / "base.json"), str(tmp_path / "a.tar")))
    assert "NaN" in line
    doc = json.loads(good.stdout)
    doc["totals"]["final_bytes"] = 1.5e308
    (tmp_path / "base.json").write_text(json.dumps(doc))
    line = one_line_error(run_cli("diff", str(tmp_path / "base.json"), str(tmp_path / "a.tar")))
    assert "totals.final_bytes" in line


def test_uid_overflow_is_one_line(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("f")
        ti.uid = 1 << 40
        tf.addfile(ti, io.BytesIO(b""))
    tar = buf.getvalue()
    line = one_line_error(run_cli("analyze", docker_archive(str(tmp_path / "a.tar"), [tar])))
    assert "out of range" in line
