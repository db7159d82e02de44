"""What a name opens, what callers may ask the source it opens, and the one digest check."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from slimscope.errors import BadInput, EngineUnavailable
from slimscope.image.reference import (
    ARCHIVE,
    DAEMON,
    OCI_DIR,
    REGISTRY,
    Reference,
    open_source,
    parse_reference,
)
from slimscope.index.digests import blob_name, check_digest, digest_hex, digest_of_name, sha256_digest
from tests.support.synth import config_for, docker_archive, layer_tar, oci_archive, oci_layout, sha

LAYERS = [
    [("etc", "dir"), ("etc/conf", "file", b"c" * 100), ("big", "file", b"B" * 5000)],
    [(".wh.big", "whiteout"), ("etc", "dir"), ("etc/conf", "file", b"c" * 100, 0o600)],
]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/slimscope-h1-test.sock"}


@pytest.fixture
def paths(tmp_path):
    layout = oci_layout(str(tmp_path / "layout"), LAYERS)
    return {"archive": docker_archive(str(tmp_path / "i.tar"), LAYERS),
            "oci-archive": oci_archive(str(tmp_path / "i.oci.tar"), layout),
            "layout": layout}


def test_every_transport_and_bare_form(paths):
    a, o, d = paths["archive"], paths["oci-archive"], paths["layout"]
    assert parse_reference(a) == Reference(ARCHIVE, a, True)
    assert parse_reference("docker-archive:" + a) == Reference(ARCHIVE, a, False)
    assert parse_reference("oci-archive:" + o + ":latest") == Reference(ARCHIVE, o, False, "latest")
    assert parse_reference(d) == Reference(OCI_DIR, d, True)
    assert parse_reference("oci:" + d + ":latest") == Reference(OCI_DIR, d, False, "latest")
    assert parse_reference("docker-daemon:app:1") == Reference(DAEMON, "app:1", False)
    assert parse_reference("docker://app:1") == Reference(REGISTRY, "app:1", False)  # skopeo: a registry
    assert parse_reference("app:1") == Reference(DAEMON, "app:1", True)


@pytest.mark.parametrize("name, match", [
    ("docker-archive:/nonexistent/x.tar", "no such archive: /nonexistent/x.tar"),
    ("oci:/nonexistent/dir:latest", "no such OCI layout directory: /nonexistent/dir:latest"),
    ("./nope.tar", "no such file: ./nope.tar"),
    ("/dev/null", "neither an archive nor an OCI layout directory"),
])
def test_a_path_that_is_not_there_is_refused_when_parsed(name, match):
    with pytest.raises(BadInput, match=match):
        parse_reference(name)


def test_what_callers_ask_a_source(paths):
    archive, layout = open_source(paths["archive"]), open_source(paths["layout"])
    daemon = open_source("docker-daemon:app:1")
    assert (archive.in_engine, archive.engine_ref, archive.archive_path, archive.local_path) == \
        (False, None, paths["archive"], paths["archive"])
    assert (layout.in_engine, layout.engine_ref, layout.archive_path, layout.local_path) == \
        (False, None, None, paths["layout"])
    assert (daemon.in_engine, daemon.engine_ref, daemon.archive_path, daemon.local_path) == \
        (True, "app:1", None, None)
    archive.check()
    layout.check()


def test_check_fails_fast_without_an_engine(monkeypatch):
    for k, v in NO_ENGINE.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(EngineUnavailable, match="no Docker engine answers"):
        open_source("docker-daemon:app:1").check()
    # named bare, it may have been a mistyped path: the line says both
    with pytest.raises(EngineUnavailable, match="'app:1' is not a file or directory, and no Docker"):
        open_source("app:1").check()


def cli(*args):
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, env={**os.environ, "SLIMSCOPE_NO_CACHE": "1", **NO_ENGINE})


def one_line(r, match):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unexpected error" not in lines[0], r.stderr
    assert match in lines[0], lines[0]


def test_a_bare_name_without_an_engine_is_one_line():
    one_line(cli("analyze", "no-such-image-h1"), "is not a file or directory, and no Docker engine")


@pytest.mark.parametrize("doc", ["[]", '"text"'])
def test_an_index_that_is_not_an_object_is_one_line(tmp_path, doc):
    (tmp_path / "index.json").write_text(doc)
    one_line(cli("analyze", str(tmp_path)), "index.json is not a JSON object")


# -- digests --------------------------------------------------------------------------

def test_digest_helpers():
    d = sha256_digest(b"x")
    assert d == sha(b"x") and digest_hex(d, "here") == d[7:]
    assert blob_name(d, "here") == "blobs/sha256/" + d[7:]
    assert digest_of_name(blob_name(d, "here")) == d and digest_of_name("abc/layer.tar") == ""
    check_digest("here", "b", d, d)
    with pytest.raises(BadInput, match="^here: blob b does not match its sha256 digest$"):
        check_digest("here", "b", d, sha256_digest(b"y"))
    for bad in ("md5:" + "0" * 64, "sha256:" + "0" * 63, "sha256:../../../../etc/passwd" + "0" * 42,
                "sha256:" + "A" * 64):
        with pytest.raises(BadInput, match="unsupported or malformed digest"):
            digest_hex(bad, "here")


def docker25(path, stored, named):
    """A Docker >= 25 archive whose layer members are named by the digests of `named`
    but hold `stored`."""
    cfg = json.dumps(config_for(named)).encode()
    with tarfile.open(path, "w") as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        for data, name in zip(stored, named):
            add("blobs/sha256/" + sha(name)[7:], data)
        add("blobs/sha256/" + sha(cfg)[7:], cfg)
        add("manifest.json", json.dumps([{"Config": "blobs/sha256/" + sha(cfg)[7:],
                                          "RepoTags": ["x:1"],
                                          "Layers": ["blobs/sha256/" + sha(t)[7:] for t in named]}]
                                        ).encode())
    return str(path)


@pytest.mark.parametrize("cached", [False, True])
def test_a_changed_archive_blob_is_refused_cached_or_not(tmp_path, monkeypatch, cached):
    """With --verify, a blob changed since its index was cached reads as a digest
    mismatch, as uncached. Without, the analysis is of the bytes that are there."""
    import hashlib

    from slimscope.core.analysis import analyze
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    tars = [layer_tar(layer) for layer in LAYERS]
    analyze(docker25(tmp_path / "good.tar", tars, tars), use_cache=cached, verify=True)
    analyze(str(tmp_path / "good.tar"), use_cache=cached)
    changed = tars[0].replace(b"B" * 10, b"X" + b"B" * 9, 1)
    bad = docker25(tmp_path / "bad.tar", [changed, tars[1]], tars)
    with pytest.raises(BadInput, match=r"bad.tar: blob blobs/sha256/\w+ does not match its sha256"):
        analyze(bad, use_cache=cached, verify=True)
    got = analyze(bad, use_cache=cached)
    (waste,) = [w for w in got.waste if w.path == "/big"]
    assert waste.digest == "sha256:" + hashlib.sha256(b"X" + b"B" * 4999).hexdigest()


@pytest.mark.parametrize("cached", [False, True])
def test_a_changed_oci_blob_is_refused_cached_or_not(tmp_path, monkeypatch, cached):
    from slimscope.core.analysis import analyze
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    d = oci_layout(str(tmp_path / "l"), LAYERS, compression="none")
    a = analyze(d, use_cache=cached)
    blob = os.path.join(d, a.image.layers[0].member)
    data = open(blob, "rb").read()
    open(blob, "wb").write(data.replace(b"B" * 10, b"X" + b"B" * 9, 1))
    with pytest.raises(BadInput, match=r"blob sha256:\w+ does not match its sha256 digest"):
        analyze(d, use_cache=cached)
