"""Tests of the test infrastructure itself (tests/engine.py), with the real engine.

If these fail, every ground-truth test built on them means nothing, so they
check what the helpers promise: the bases run, `docker export` snapshots see
real sizes, every fixture's final filesystem is what its expectations claim,
and the Docker >= 25 re-pack is a consistent OCI layout the engine loads.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tests.support import bases, forms, images
from tests.support import engine as engine_mod
from tests.support.engine import REPO_ROOT, RUN_ID, cache_dir, export_snapshot, named

SKIP_SLOW = os.environ.get("SLIMSCOPE_SKIP_DEBIAN") == "1"
# the Debian fixtures, built in the background from the session's start
PREWARM = [] if SKIP_SLOW else [
    (images.fixture_tag(n), lambda n=n: images.fixture_image(n))
    for n, (_, _, exp) in images.FIXTURES.items() if exp.get("slow")]
ALL_FIXTURES = [
    pytest.param(n, marks=pytest.mark.skipif(SKIP_SLOW, reason="SLIMSCOPE_SKIP_DEBIAN=1"))
    if exp.get("slow") else n
    for n, (_, _, exp) in images.FIXTURES.items()
]


MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.engine
def test_busybox_base_runs(engine, busybox_image):
    out = engine.containers.run(busybox_image, ["echo", "hi"], remove=True)
    assert out == b"hi\n"


def _restamp(engine, ref: str, tag: str, change: str) -> str:
    """Point `tag` at a new image: `ref` committed with one Dockerfile `change`
    (labels, the inputs label among them, are kept). Returns its id."""
    cid = engine.api.create_container(ref, command=["/slimscope-not-run"])["Id"]
    try:
        repo, _, t = tag.rpartition(":")
        return engine.api.commit(cid, repository=repo, tag=t, changes=[change])["Id"]
    finally:
        engine.api.remove_container(cid, force=True)


@pytest.fixture()
def own_images(engine):
    """Ids and tags a test makes; removed afterwards (only these)."""
    made: list = []
    yield made
    for ref in reversed(made):
        with contextlib.suppress(Exception):
            engine.api.remove_image(ref, force=True)


@pytest.mark.engine
def test_busybox_base_is_made_once_per_inputs(engine, busybox_image, own_images):
    assert engine.api.inspect_image(busybox_image)["Config"]["Labels"][engine_mod.INPUTS_LABEL] \
        == bases.busybox_inputs()
    tag = named(f"busybox-{RUN_ID}:base")
    own_images.append(tag)
    first = engine.api.inspect_image(bases.busybox_base(tag))["Id"]
    # an import always makes a new image (its Created time is new): the same
    # id means the second call saw the label and imported nothing
    assert engine.api.inspect_image(bases.busybox_base(tag))["Id"] == first
    # a tag whose label records other inputs is made again
    stale = _restamp(engine, tag, tag, f"LABEL {engine_mod.INPUTS_LABEL}=stale")
    own_images.append(first)
    remade = engine.api.inspect_image(bases.busybox_base(tag))
    assert remade["Id"] not in (first, stale)
    assert remade["Config"]["Labels"][engine_mod.INPUTS_LABEL] == bases.busybox_inputs()


@pytest.mark.engine
def test_export_snapshot_of_busybox_base(engine, busybox_image):
    snap = export_snapshot(busybox_image)
    kind, size, mode, uid, gid, link = snap["/bin/busybox"]
    assert (kind, size, mode, uid, gid) == ("file", bases.BUSYBOX_BIN.stat().st_size, 0o755, 0, 0)
    assert snap["/bin/sh"] == ("symlink", 0, 0o777, 0, 0, "/bin/busybox")
    assert snap["/tmp"][0] == "dir" and snap["/tmp"][2] == 0o1777
    assert snap["/etc/passwd"][0] == "file"
    # what the engine adds to a container is left out
    assert not any(p == "/dev" or p.startswith(("/dev/", "/proc/", "/sys/")) for p in snap)
    assert "/.dockerenv" not in snap and "/etc/hosts" not in snap
    # the container made for the export is gone again
    assert not engine.api.containers(all=True, filters={"ancestor": busybox_image})


@pytest.mark.engine
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_final_filesystem_matches_expectations(engine, name):
    """A fixture's `final`/`absent`/`setuid`/`setgid` claims hold in the
    container the engine creates from it (the ground truth)."""
    tag = images.fixture_image(name)
    exp = images.FIXTURES[name][2]
    snap = export_snapshot(tag)
    for path, kind in exp.get("final", {}).items():
        assert path in snap, f"{name}: {path} missing from the container"
        assert snap[path][0] == kind, f"{name}: {path} is {snap[path]}"
    for path in exp.get("absent", []):
        assert path not in snap, f"{name}: {path} should be gone"
    for path in exp.get("setuid", []):
        assert snap[path][2] & stat.S_ISUID
    for path in exp.get("setgid", []):
        assert snap[path][2] & stat.S_ISGID
    for path in exp.get("hidden_sensitive", []):
        assert path not in snap
    for path in set(exp.get("sensitive", [])) - set(exp.get("hidden_sensitive", [])):
        assert path in snap
    for top, least in exp.get("hint_min_bytes", {}).items():
        assert sum(v[1] for p, v in snap.items() if p.startswith(top + "/")) >= least


@pytest.mark.engine
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_layers_match_expectations(engine, tmp_path, name):
    """The layer-level claims (layer counts, repeated diff_ids, opaque dirs,
    whiteouts for deleted paths) hold in what `docker save` writes."""
    tag = images.fixture_image(name)
    exp = images.FIXTURES[name][2]
    attrs = engine.api.inspect_image(tag)
    diff_ids = attrs["RootFS"]["Layers"]
    if "layers" in exp:
        assert len(diff_ids) == exp["layers"]
    assert len(diff_ids) - len(set(diff_ids)) == exp.get("duplicate_diff_ids", 0)
    if "empty_layers" in exp:
        history = engine.api.history(tag)
        # the engine's history API does not say empty_layer; the config does
        legacy = forms.save_archive(tag, tmp_path / "img.tar")
        with tarfile.open(legacy) as tf:
            cfg = json.load(tf.extractfile(json.load(tf.extractfile("manifest.json"))[0]["Config"]))
        assert sum(1 for h in cfg["history"] if h.get("empty_layer")) == exp["empty_layers"]
        assert len(history) == len(cfg["history"])
    needs_layers = exp.get("opaque_dirs") or any(
        r in ("deleted", "opaque") for r in exp.get("reasons", {}).values())
    if not needs_layers:
        return
    legacy = forms.save_archive(tag, tmp_path / "img.tar")
    names = {"/" + m.name for layer in _layer_entries(legacy)[1:] for m in layer}
    for d in exp.get("opaque_dirs", []):
        assert f"{d}/.wh..wh..opq" in names, d
    for path, reason in exp.get("reasons", {}).items():
        parent, _, base = path.rpartition("/")
        if reason == "deleted":
            assert f"{parent}/.wh.{base}" in names, path


@pytest.mark.engine
def test_build_is_skipped_while_the_inputs_are_the_same(engine, busybox_image, own_images):
    tag = named(f"rebuild-{RUN_ID}:latest")
    dockerfile = f"FROM {busybox_image}\nCOPY f /f\n"
    own_images.append(tag)
    built = engine.api.inspect_image(images.build_image(tag, dockerfile, {"f": "one"}))["Id"]
    own_images.append(built)
    # Move the tag to another image carrying the same inputs label. A build
    # would move it back (the engine's layer cache gives the same image);
    # build_image must see the label and leave the tag alone.
    other = _restamp(engine, tag, tag, "ENV SLIMSCOPE_TEST_RESTAMPED=1")
    assert other != built
    assert images.build_image(tag, dockerfile, {"f": "one"}) == tag
    assert engine.api.inspect_image(tag)["Id"] == other
    # a changed context file is a changed input: built again
    images.build_image(tag, dockerfile, {"f": "two"})
    again = engine.api.inspect_image(tag)
    assert again["Id"] not in (built, other)
    assert export_snapshot(tag)["/f"][1] == len("two")


def _layer_entries(save_tar: Path) -> list[list[tarfile.TarInfo]]:
    with tarfile.open(save_tar) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))[0]
        out = []
        for name in manifest["Layers"]:
            with tarfile.open(fileobj=tf.extractfile(name)) as layer:
                out.append(layer.getmembers())
        return out


@pytest.mark.engine
def test_opaque_dir_is_an_opaque_whiteout(engine, tmp_path):
    """overlay2 records `rm -rf /d && mkdir /d` as d/ + d/.wh..wh..opq."""
    forms.save_archive(images.fixture_image("opaque-dir"), tmp_path / "img.tar")
    last = [m.name for m in _layer_entries(tmp_path / "img.tar")[-1]]
    assert "d/.wh..wh..opq" in last and "d/c" in last


@pytest.mark.engine
def test_save_forms_hold_the_same_layers(engine, tmp_path):
    tag = images.fixture_image("chmod-dup")
    legacy = forms.save_archive(tag, tmp_path / "img.tar")
    gz = forms.save_gzip(tag, tmp_path / "img.tar.gz")
    with gzip.open(gz) as fh:
        assert fh.read() == legacy.read_bytes()
    diff_ids = engine.api.inspect_image(tag)["RootFS"]["Layers"]

    for compression, magic in (("gzip", b"\x1f\x8b"), ("zstd", b"\x28\xb5\x2f\xfd")):
        layout = forms.oci_layout(tag, tmp_path / f"oci-{compression}", compression=compression)
        index = json.loads((layout / "index.json").read_text())
        mdesc = index["manifests"][0]
        assert mdesc["annotations"]["org.opencontainers.image.ref.name"] == "latest"
        manifest = json.loads((layout / "blobs/sha256" / mdesc["digest"][7:]).read_bytes())
        config = json.loads((layout / "blobs/sha256" / manifest["config"]["digest"][7:]).read_bytes())
        assert config["rootfs"]["diff_ids"] == diff_ids
        for layer in manifest["layers"]:
            blob = (layout / "blobs/sha256" / layer["digest"][7:]).read_bytes()
            assert _sha256(blob) == layer["digest"][7:]
            assert blob.startswith(magic), (compression, layer["mediaType"])
            assert layer["mediaType"].endswith("+" + compression)

    archive = forms.oci_archive(tag, tmp_path / "img.oci.tar", compression="zstd")
    with tarfile.open(archive) as tf:
        names = set(tf.getnames())
    assert {"oci-layout", "index.json"} <= {n.lstrip("./") for n in names}


def _check_docker25_layout(path: Path, legacy: Path) -> dict:
    """Every reference in a re-packed archive resolves to a blob whose sha256
    is its digest; returns the parsed pieces."""
    with tarfile.open(path) as tf:
        names = tf.getnames()
        assert names[:2] == ["blobs", "blobs/sha256"] or names[:2] == ["blobs/", "blobs/sha256/"]
        assert names == sorted(names), "Docker writes the tree in lexical order"
        files = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert _sha256(data) == name.rsplit("/", 1)[1], name
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    assert index["mediaType"] == forms.MT_INDEX
    (mdesc,) = index["manifests"]
    manifest_blob = files["blobs/sha256/" + mdesc["digest"][7:]]
    assert mdesc["size"] == len(manifest_blob)
    manifest = json.loads(manifest_blob)
    assert manifest["mediaType"] == forms.MT_MANIFEST == mdesc["mediaType"]
    config_blob = files["blobs/sha256/" + manifest["config"]["digest"][7:]]
    assert manifest["config"]["size"] == len(config_blob)
    config = json.loads(config_blob)
    layer_digests = [d["digest"] for d in manifest["layers"]]
    assert all(d["mediaType"] == forms.MT_LAYER for d in manifest["layers"])
    assert layer_digests == config["rootfs"]["diff_ids"]
    for d in manifest["layers"]:
        assert len(files["blobs/sha256/" + d["digest"][7:]]) == d["size"]

    (item,) = json.loads(files["manifest.json"])
    assert item["Config"] == "blobs/sha256/" + manifest["config"]["digest"][7:]
    assert item["Layers"] == ["blobs/sha256/" + d[7:] for d in layer_digests]
    repos = json.loads(files["repositories"])

    with tarfile.open(legacy) as tf:
        old = json.load(tf.extractfile("manifest.json"))[0]
        assert _sha256(tf.extractfile(old["Config"]).read()) == manifest["config"]["digest"][7:]
    assert item["RepoTags"] == old["RepoTags"]
    name, _, tag = old["RepoTags"][0].rpartition(":")
    assert repos == {name: {tag: layer_digests[-1][7:]}}
    assert mdesc["annotations"] == {
        "io.containerd.image.name": f"docker.io/{name}:{tag}",
        "org.opencontainers.image.ref.name": tag,
    }
    return {"index": index, "manifest": manifest, "config": config, "files": files}


@pytest.mark.engine
@pytest.mark.parametrize("name", ["links", "dup-layer", "opaque-dir"])
def test_repack_docker25_is_consistent(engine, tmp_path, name):
    legacy = forms.save_archive(images.fixture_image(name), tmp_path / "legacy.tar")
    out = forms.repack_docker25(legacy, tmp_path / "docker25.tar")
    parts = _check_docker25_layout(out, legacy)
    if name == "dup-layer":
        ids = parts["config"]["rootfs"]["diff_ids"]
        assert len(ids) != len(set(ids)), "fixture lost its repeated diff_id"
    # the layer blobs are the very layer.tar bytes of the legacy archive
    assert [m.name for m in _layer_entries(legacy)[-1]] == [
        m.name for m in tarfile.open(fileobj=io.BytesIO(
            parts["files"]["blobs/sha256/" + parts["manifest"]["layers"][-1]["digest"][7:]]))]


# Layers of their own (unique content), so that removing this image really
# removes its layers and `docker load` must read them back from the blobs.
REPACK_LOAD_DOCKERFILE = (
    f"FROM {bases.BUSYBOX_TAG}\n"
    "COPY same.bin /same.bin\n"
    "RUN echo repack-load > /marker && mkdir /h && echo a > /h/a && ln /h/a /h/b\n"
    "COPY same.bin /same.bin\n"
)


@pytest.mark.engine
def test_repack_docker25_loads_into_the_engine(engine, tmp_path):
    tag = named("repack-load:latest")
    files = {"same.bin": images.noise(3000, "repack-load")}
    images.build_image(tag, REPACK_LOAD_DOCKERFILE, files)
    image_id = engine.api.inspect_image(tag)["Id"]
    before = export_snapshot(tag)
    legacy = forms.save_archive(tag, tmp_path / "legacy.tar")
    out = forms.repack_docker25(legacy, tmp_path / "docker25.tar")
    _check_docker25_layout(out, legacy)

    # Debian's engine 20.10 loads it: its loader follows manifest.json, whose
    # Config and Layers paths now point into blobs/sha256/ (it ignores the
    # OCI index; Docker >= 25 reads either).
    engine.api.remove_image(tag)
    with open(out, "rb") as fh:
        list(engine.api.load_image(fh))
    assert engine.api.inspect_image(tag)["Id"] == image_id
    assert export_snapshot(tag) == before


def test_repack_docker25_full_reference():
    assert forms.full_reference("busybox:1") == "docker.io/library/busybox:1"
    assert forms.full_reference("a/b:c") == "docker.io/a/b:c"
    assert forms.full_reference("localhost:5000/a:t") == "localhost:5000/a:t"
    assert forms.full_reference("reg.io/a/b") == "reg.io/a/b:latest"


def test_noise_is_reproducible_and_incompressible():
    a = images.noise(10000, "x")
    assert a == images.noise(10000, "x") and a != images.noise(10000, "y") and len(a) == 10000
    assert len(gzip.compress(a)) > 9900


@pytest.mark.skipif(os.environ.get("SLIMSCOPE_SKIP_DEBIAN") == "1",
                    reason="SLIMSCOPE_SKIP_DEBIAN=1")
@pytest.mark.engine
def test_apt_works_in_builds_on_debian_base(engine, tmp_path):
    """The debootstrap base is a real Debian: apt-get works inside docker build.
    The apt fixture is that build (other tests read it too: it is made once)."""
    tag = images.fixture_image("apt-libc-dev")
    # dpkg's own record, read from a created container's filesystem (a run's
    # output of a process this short came back empty now and then)
    cid = engine.api.create_container(tag, command=["/slimscope-not-run"])["Id"]
    try:
        stream, _ = engine.api.get_archive(cid, "/var/lib/dpkg/status")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tf:
            status = tf.extractfile("status").read().decode()
    finally:
        engine.api.remove_container(cid, force=True)
    stanza = next(s for s in status.split("\n\n") if s.startswith("Package: libc6-dev\n"))
    assert "\nStatus: install ok installed\n" in stanza
    assert Path(cache_dir(), "debian-bookworm-minbase.tar.gz").is_file()


SAMPLES = REPO_ROOT / "sample-images"


def _blob_check(read, names) -> dict:
    """Follow index -> manifest -> config/layers in an OCI layout; every
    digest must match its blob. Returns the config."""
    index = json.loads(read("index.json"))
    (mdesc,) = index["manifests"]
    assert mdesc["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    for d in [mdesc]:
        assert _sha256(read("blobs/sha256/" + d["digest"][7:])) == d["digest"][7:]
    manifest = json.loads(read("blobs/sha256/" + mdesc["digest"][7:]))
    for d in [manifest["config"], *manifest["layers"]]:
        blob = read("blobs/sha256/" + d["digest"][7:])
        assert _sha256(blob) == d["digest"][7:] and len(blob) == d["size"]
    return json.loads(read("blobs/sha256/" + manifest["config"]["digest"][7:])), manifest


def test_sample_images_hold_one_image():
    """The committed samples are intact and are the same image in three forms."""
    with tarfile.open(SAMPLES / "demo.tar") as tf:
        item = json.load(tf.extractfile("manifest.json"))[0]
        assert item["RepoTags"] == ["slimscope-sample/demo:latest"]
        legacy_cfg_bytes = tf.extractfile(item["Config"]).read()
        assert _sha256(legacy_cfg_bytes) == item["Config"].removesuffix(".json")
        diff_ids = []
        for name in item["Layers"]:
            h = hashlib.sha256()
            f = tf.extractfile(name)
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(chunk)
            diff_ids.append("sha256:" + h.hexdigest())
    legacy_cfg = json.loads(legacy_cfg_bytes)
    assert legacy_cfg["rootfs"]["diff_ids"] == diff_ids

    layout = SAMPLES / "demo-oci"
    cfg, manifest = _blob_check(lambda n: (layout / n).read_bytes(), None)
    assert cfg["rootfs"]["diff_ids"] == diff_ids
    assert {d["mediaType"] for d in manifest["layers"]} == {MT_GZIP}

    with tarfile.open(SAMPLES / "demo.oci.tar") as tf:
        cfg, manifest = _blob_check(lambda n: tf.extractfile(n).read(), None)
    assert cfg["rootfs"]["diff_ids"] == diff_ids
    assert {d["mediaType"] for d in manifest["layers"]} == {MT_ZSTD}

    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024


@pytest.mark.engine
def test_sample_demo_tar_is_the_demo_fixture(engine):
    """demo.tar, loaded into the engine, shows what FIXTURES["demo"] claims."""
    with open(SAMPLES / "demo.tar", "rb") as fh:
        list(engine.api.load_image(fh))
    snap = export_snapshot("slimscope-sample/demo:latest")
    exp = images.FIXTURES["demo"][2]
    for path, kind in exp["final"].items():
        assert snap[path][0] == kind, path
    for path in exp["absent"]:
        assert path not in snap, path
    assert snap["/usr/local/bin/demo-suid"][2] == 0o4755
    assert snap["/app/twin"][1] == 12000
    # and a fresh build of the fixture shows the very same tree
    assert export_snapshot(images.fixture_image("demo")) == snap
