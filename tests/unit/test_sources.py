"""Every source form, built without an engine, and the bad inputs each must refuse."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from slimscope.core.analysis import analyze
from slimscope.errors import BadInput
from slimscope.index.cache import IndexCache
from tests.support.synth import docker_archive, layer_tar, oci_archive, oci_layout

LAYERS = [
    [("etc", "dir"), ("etc/conf", "file", b"c" * 100), ("big", "file", b"B" * 5000)],
    [(".wh.big", "whiteout"), ("etc", "dir"), ("etc/conf", "file", b"c" * 100, 0o600)],
]


def summary(a):
    return (a.total_bytes, a.final_bytes, sorted((w.path, w.reason) for w in a.waste),
            sorted(r.path for r in a.files()))


EXPECTED = (5200, 100, [("/big", "deleted"), ("/etc/conf", "metadata-only")],
            ["/etc", "/etc/conf"])


@pytest.mark.parametrize("form", ["docker-archive", "docker-archive-gz", "oci-gzip", "oci-zstd",
                                  "oci-plain", "oci-archive", "prefixed-oci", "prefixed-archive"])
def test_every_form_gives_the_same_analysis(tmp_path, form):
    if form.startswith("docker-archive") or form == "prefixed-archive":
        name = docker_archive(str(tmp_path / "i.tar"), LAYERS, gz=form.endswith("gz"))
        if form == "prefixed-archive":
            name = "docker-archive:" + name
    else:
        comp = {"oci-zstd": "zstd", "oci-plain": "none"}.get(form, "gzip")
        name = oci_layout(str(tmp_path / "layout"), LAYERS, compression=comp)
        if form == "oci-archive":
            name = oci_archive(str(tmp_path / "i.oci.tar"), name)
        if form == "prefixed-oci":
            name = "oci:" + name + ":latest"
    a = analyze(name, use_cache=False)
    assert summary(a) == EXPECTED
    if form in ("oci-gzip", "oci-zstd"):
        assert all(l.compressed_bytes and l.compressed_bytes < l.tar_bytes for l in a.layers)


def test_docker25_layout_archive(tmp_path):
    """manifest.json whose Layers point into blobs/sha256, as Docker >= 25 writes."""
    tars = [layer_tar(l) for l in LAYERS]
    from tests.support.synth import config_for, sha
    cfg = json.dumps(config_for(tars)).encode()
    out = tmp_path / "d25.tar"
    with tarfile.open(out, "w") as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        for t in tars:
            add("blobs/sha256/" + sha(t)[7:], t)
        add("blobs/sha256/" + sha(cfg)[7:], cfg)
        add("manifest.json", json.dumps([{"Config": "blobs/sha256/" + sha(cfg)[7:],
                                          "RepoTags": ["x:1"],
                                          "Layers": ["blobs/sha256/" + sha(t)[7:] for t in tars]}]
                                        ).encode())
        add("index.json", b'{"schemaVersion":2,"manifests":[]}')
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    a = analyze(str(out), use_cache=False)
    assert summary(a) == EXPECTED and a.image.reference == "x:1"


def test_multi_image_archive_needs_image(tmp_path):
    a = docker_archive(str(tmp_path / "a.tar"), LAYERS, tag="one:1")
    # merge two archives' manifests into one archive
    tars = [layer_tar(l) for l in LAYERS[:1]]
    b = docker_archive(str(tmp_path / "b.tar"), tars, tag="two:2")
    merged = tmp_path / "m.tar"
    manifests = []
    with tarfile.open(merged, "w") as out:
        for src in (a, b):
            with tarfile.open(src) as tf:
                for m in tf.getmembers():
                    data = tf.extractfile(m).read()
                    if m.name == "manifest.json":
                        manifests += json.loads(data)
                        continue
                    out.addfile(m, io.BytesIO(data))
        data = json.dumps(manifests).encode()
        ti = tarfile.TarInfo("manifest.json")
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    with pytest.raises(BadInput, match="several images.*one:1.*two:2"):
        analyze(str(merged), use_cache=False)
    assert analyze(str(merged), image="two:2", use_cache=False).total_bytes == 5100
    with pytest.raises(BadInput, match="no image 'three'"):
        analyze(str(merged), image="three", use_cache=False)


def test_platform_selection(tmp_path):
    d = oci_layout(str(tmp_path / "multi"), LAYERS, platforms=["linux/amd64", "linux/arm64"])
    assert analyze(d, platform="linux/arm64", use_cache=False).image.architecture == "arm64"
    with pytest.raises(BadInput, match="no manifest for platform linux/s390x.*linux/amd64.*linux/arm64"):
        analyze(d, platform="linux/s390x", use_cache=False)


def test_layer_cache_is_reused_and_gives_the_same_result(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS)
    cache_dir = str(tmp_path / "cache")
    from slimscope.image.model import Options
    from slimscope.image.reference import load_image
    first = load_image(d, Options(cache=IndexCache(cache_dir)))
    files = sorted(f for f in os.listdir(cache_dir) if not f.startswith("file-v1-"))
    assert len(files) == 4  # blob digest and diff_id for each of the two layers (and notes)
    # A cached index must be what is used: poison the blob-digest entry's paths and see them.
    second = load_image(d, Options(cache=IndexCache(cache_dir)))
    assert [l.index.paths for l in second.layers] == [l.index.paths for l in first.layers]
    key = first.layers[0].digest
    idx = IndexCache(cache_dir).get(key, True)
    idx.paths[0] = "/from-cache"
    IndexCache(cache_dir).put([key], idx)
    third = load_image(d, Options(cache=IndexCache(cache_dir)))
    assert third.layers[0].index.paths[0] == "/from-cache"


# -- bad input --------------------------------------------------------------------

def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "SLIMSCOPE_NO_CACHE": "1"})


def assert_bad(args, match):
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert match in lines[0], lines[0]


def test_missing_file(tmp_path):
    assert_bad(["analyze", str(tmp_path / "nope.tar")], "no such file")


def test_not_an_image(tmp_path):
    p = tmp_path / "x.tar"
    p.write_bytes(b"hello, this is not a tar at all" * 100)
    assert_bad(["analyze", str(p)], "not an image archive")


def test_tar_without_manifest(tmp_path):
    p = tmp_path / "x.tar"
    with tarfile.open(p, "w") as tf:
        ti = tarfile.TarInfo("readme.txt")
        ti.size = 2
        tf.addfile(ti, io.BytesIO(b"hi"))
    assert_bad(["analyze", str(p)], "no manifest.json or index.json")


def test_truncated_archive(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), LAYERS)
    data = open(p, "rb").read()
    open(p, "wb").write(data[: len(data) // 3])
    assert_bad(["analyze", p], str(p))


def test_truncated_gzip_archive(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar.gz"), LAYERS, gz=True)
    data = open(p, "rb").read()
    open(p, "wb").write(data[: len(data) - 200])
    assert_bad(["analyze", p], "truncated or corrupt")


def test_corrupt_gzip_layer(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS)
    index = json.load(open(os.path.join(d, "index.json")))
    man = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
    blob = os.path.join(d, "blobs/sha256", man["layers"][0]["digest"][7:])
    data = bytearray(open(blob, "rb").read())
    data[30:60] = b"\xff" * 30
    open(blob, "wb").write(bytes(data))
    assert_bad(["analyze", d], "layer 0")


def test_corrupt_zstd_layer(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS, compression="zstd")
    index = json.load(open(os.path.join(d, "index.json")))
    man = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
    blob = os.path.join(d, "blobs/sha256", man["layers"][0]["digest"][7:])
    data = open(blob, "rb").read()
    open(blob, "wb").write(data[: len(data) // 2])
    assert_bad(["analyze", d], "truncated or corrupt")


def test_missing_blob(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS)
    index = json.load(open(os.path.join(d, "index.json")))
    man = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
    os.remove(os.path.join(d, "blobs/sha256", man["layers"][1]["digest"][7:]))
    assert_bad(["analyze", d], "is missing")


def test_blob_digest_mismatch(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS, compression="none")
    index = json.load(open(os.path.join(d, "index.json")))
    man = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
    other = layer_tar([("evil", "file", b"x")])
    open(os.path.join(d, "blobs/sha256", man["layers"][1]["digest"][7:]), "wb").write(other)
    assert_bad(["analyze", d], "does not match")


def test_diff_id_mismatch_in_archive(tmp_path):
    tars = [layer_tar(l) for l in LAYERS]
    from tests.support.synth import config_for
    cfg = config_for(tars)
    cfg["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
    p = docker_archive(str(tmp_path / "i.tar"), tars, config=cfg)
    assert_bad(["analyze", "--verify", p], "diff_id")
    assert_bad(["ci", "--verify", p], "diff_id")
    # read lazily (the default), an archive file's uncompressed layer is not checked
    assert cli("analyze", p).returncode == 0
    gz = docker_archive(str(tmp_path / "i.tar.gz"), tars, config=cfg, gz=True)
    assert_bad(["analyze", gz], "diff_id")   # a stream is read through: always checked


@pytest.mark.parametrize("name,match", [("/etc/abs", "absolute path"),
                                        ("../escape", "climbs out"),
                                        ("a/../../escape", "climbs out")])
def test_entries_that_climb_out(tmp_path, name, match):
    p = docker_archive(str(tmp_path / "i.tar"), [[(name, "file", b"x")]])
    assert_bad(["analyze", p], match)


def test_hardlink_out_of_tree(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), [[("h", "hardlink", "../../etc/shadow")]])
    assert_bad(["analyze", p], "climbs out")


def test_absurd_header_size(tmp_path):
    t = bytearray(layer_tar([("f", "file", b"abc")]))
    # size field (offset 124, 12 bytes, octal) claims 8 GiB; the checksum is fixed up.
    t[124:136] = b"%011o\0" % ((8 << 30) - 1)
    t[148:156] = b" " * 8
    t[148:156] = b"%06o\0 " % sum(t[:512])
    p = docker_archive(str(tmp_path / "i.tar"), [bytes(t)],
                       config={"architecture": "amd64", "os": "linux",
                               "rootfs": {"type": "layers", "diff_ids": [
                                   "sha256:" + hashlib.sha256(bytes(t)).hexdigest()]}})
    assert_bad(["analyze", p], "truncated")


def test_nothing_written_next_to_the_input(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), LAYERS)
    before = sorted(os.listdir(tmp_path))
    r = cli("analyze", p, "--format", "json")
    assert r.returncode == 0
    assert sorted(os.listdir(tmp_path)) == before
    doc = json.loads(r.stdout)
    assert doc["schema"] == "slimscope.analysis/v1"
    assert doc["totals"]["wasted_bytes"] == doc["totals"]["total_bytes"] - doc["totals"]["final_bytes"]


def test_json_schema_keys(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), LAYERS + [[("l", "symlink", "/etc/conf")]])
    r = cli("analyze", p, "--format", "json", "--files")
    doc = json.loads(r.stdout)
    assert set(doc) >= {"schema", "image", "totals", "layers", "waste", "duplicates", "hints", "files"}
    assert set(doc["image"]) >= {"reference", "id", "os", "architecture", "config"}
    assert set(doc["totals"]) >= {"total_bytes", "final_bytes", "wasted_bytes", "efficiency",
                                  "layers", "files"}
    assert set(doc["layers"][0]) >= {"index", "digest", "created_by", "bytes", "compressed_bytes",
                                     "files", "added", "modified", "deleted", "wasted_bytes"}
    assert set(doc["waste"][0]) == {"path", "bytes", "layer", "hidden_by", "reason", "sensitive",
                                    "digest"}
    files = {f["path"]: f for f in doc["files"]}
    assert files["/l"] == {"path": "/l", "type": "symlink", "size": 0, "mode": 0o777, "uid": 0,
                           "gid": 0, "layer": 2, "link": "/etc/conf", "digest": None}
    assert files["/etc/conf"]["mode"] == 0o600 and files["/etc/conf"]["type"] == "file"


def test_markdown_and_text(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), LAYERS)
    md = cli("analyze", p, "--format", "markdown").stdout
    assert "| 0 |" in md and "`/big`" in md
    text = cli("analyze", p).stdout
    assert "efficiency" in text and "/big" in text and "deleted" in text


def test_output_file_written_atomically(tmp_path):
    p = docker_archive(str(tmp_path / "i.tar"), LAYERS)
    out = tmp_path / "r.json"
    r = cli("analyze", p, "--format", "json", "-o", str(out))
    assert r.returncode == 0 and json.loads(out.read_text())["totals"]["total_bytes"] == 5200
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".slimscope-")]
