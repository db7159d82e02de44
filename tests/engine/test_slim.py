"""`slimscope slim` with the real engine: every layer-merge edge case, both ways.

For each fixture image the slimmed image must load (offline) or exist (engine),
run its CMD with the original's output, show in `docker export` exactly the
original's filesystem minus what was removed, and carry every config field.
"""

from __future__ import annotations

import io
import json
import re
import tarfile

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.slim.verify import CONFIG_FIELDS
from tests.support import bases, images
from tests.support.engine import RUN_ID, _ChunkReader, export_snapshot, named
from tests.support.forms import oci_archive

pytestmark = pytest.mark.engine

CAP = b"\x01\x00\x00\x02\x00\x04\x00\x00" + bytes(12)   # cap_net_bind_service+ep
CAP_KEY = "SCHILY.xattr.security.capability"


def _cap_tar() -> bytes:
    """A tar for ADD: a file with a capability xattr, and a hardlink pair."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data, mode, link, pax in (
                ("capdir/", tarfile.DIRTYPE, b"", 0o755, "", {}),
                ("capdir/ping", tarfile.REGTYPE, b"#!/bin/sh\necho pong\n", 0o755, "",
                 {CAP_KEY: CAP.decode("utf-8", "surrogateescape")}),
                ("capdir/hl-a", tarfile.REGTYPE, b"hardlinked body\n", 0o644, "", {}),
                ("capdir/hl-b", tarfile.LNKTYPE, b"", 0o644, "capdir/hl-a", {})):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime, ti.linkname = kind, mode, bases.FIXED_MTIME, link
            ti.size = len(data)
            ti.pax_headers = pax
            tf.addfile(ti, io.BytesIO(data) if data else None)
    return buf.getvalue()


EDGE_DOCKERFILE = f"""FROM {bases.BUSYBOX_TAG}
RUN mkdir -p /e/keep /e/empty /e/gone/sub /e/sticky && echo one > /e/modrm && echo a > /e/readd \\
 && echo x > /e/gone/sub/f && head -c 40000 /dev/zero | tr '\\0' g > /e/gone/big \\
 && echo t > /e/target && ln -s /e/target /e/sym-to-file && ln -s keep /e/sym-dir \\
 && ln -s /missing /e/broken && mknod /e/null c 1 3 && mkfifo /e/fifo && chmod 1777 /e/sticky \\
 && chown 1000:1000 /e/keep && chmod 4755 /e/modrm && mkdir -p /tmp && echo tmp > /tmp/junk \
 && echo pair > /e/pair-a && ln /e/pair-a /e/pair-b
RUN echo two >> /e/modrm && rm /e/readd && touch /e/keep/new
RUN rm /e/modrm && echo b > /e/readd && rm -rf /e/gone && rm /e/sym-to-file \\
 && echo now-a-file > /e/sym-to-file
ADD cap.tar /
RUN ln /capdir/hl-a /capdir/hl-cross && rm /capdir/hl-a
HEALTHCHECK --interval=7s --timeout=3s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
STOPSIGNAL SIGUSR1
ENV WEIRD="a \\"q\\" \\$x \\\\ b" PLAIN=1
LABEL org.example.k="v w" other=1
EXPOSE 8080/udp 80
VOLUME /vol
WORKDIR /e
USER 1000:1000
ONBUILD RUN echo child
CMD ["sh", "-c", "stat -c '%N %A %u %g' /e/* /capdir/*; cat /e/readd /capdir/ping"]
"""

FIXTURES = [n for n, (_, _, exp) in images.FIXTURES.items() if not exp.get("slow")]


def edge_image() -> str:
    return images.build_image(named("slim-edge:latest"), EDGE_DOCKERFILE,
                         {"cap.tar": _cap_tar()})


def _image(name: str) -> str:
    return edge_image() if name == "edge" else images.fixture_image(name)


def _slim(*args) -> dict:
    r = CliRunner().invoke(main, ["slim", *args, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.output[r.output.index("{"):])


def _load(client, path) -> str:
    """`docker load -i path`; the id of the loaded image."""
    with open(path, "rb") as f:
        out = "".join(d.get("stream", "") for d in client.api.load_image(f))
    m = re.search(r"Loaded image(?: ID)?: (\S+)", out)
    assert m, out
    return client.api.inspect_image(m.group(1))["Id"]


def _run(client, image: str) -> tuple:
    cid = client.api.create_container(image, network_disabled=True)["Id"]
    try:
        client.api.start(cid)
        code = client.api.wait(cid, timeout=60)["StatusCode"]
        return code, client.api.logs(cid, stdout=True, stderr=False)
    finally:
        client.api.remove_container(cid, force=True)


def _export_headers(client, image: str) -> dict:
    cid = client.api.create_container(image, command=["/x"])["Id"]
    try:
        reader = io.BufferedReader(_ChunkReader(client.api.export(cid)), 1 << 20)
        with tarfile.open(fileobj=reader, mode="r|", encoding="utf-8",
                          errors="surrogateescape") as tf:
            return {"/" + m.name.strip("/"): m.pax_headers for m in tf}
    finally:
        client.api.remove_container(cid, force=True)


def _minus(snap: dict, removed) -> dict:
    out = {}
    for p, v in snap.items():
        if any(p == r or p.startswith(r.rstrip("/") + "/") for r in removed):
            continue
        out[p] = v
    return out


def _assert_same_config(client, original: str, slimmed: str):
    a = client.api.inspect_image(original)["Config"]
    b = client.api.inspect_image(slimmed)["Config"]
    for field in CONFIG_FIELDS:
        assert (a.get(field) or None) == (b.get(field) or None), field


def _check(client, original: str, slimmed: str, removed=()):
    assert _run(client, slimmed) == _run(client, original)
    expected = _minus(export_snapshot(original), removed)
    got = export_snapshot(slimmed)
    assert got == expected, sorted(set(got.items()) ^ set(expected.items()))[:10]
    _assert_same_config(client, original, slimmed)


@pytest.fixture()
def scratch_tags(engine):
    tags = []
    yield tags
    for t in tags:
        try:
            engine.api.remove_image(t, force=True)
        except Exception:
            pass


@pytest.mark.parametrize("name", FIXTURES + ["edge"])
def test_engine_way(engine, scratch_tags, name):
    original = _image(name)
    tag = named(f"slimmed-{name}:engine")
    scratch_tags.append(tag)
    doc = _slim(original, "--tag", tag, "--force")
    assert doc["via"] == "engine" and doc["after"]["layers"] == 1
    _check(engine, original, tag)
    if name == "edge":
        headers = _export_headers(engine, tag)
        assert headers["/capdir/ping"][CAP_KEY].encode("utf-8", "surrogateescape") == CAP
        # the restored config has the builder-only fields
        cfg = engine.api.inspect_image(tag)["Config"]
        assert cfg["Healthcheck"]["Retries"] == 2 and cfg["Shell"] == ["/bin/sh", "-ec"]
        assert cfg["StopSignal"] == "SIGUSR1" and cfg["OnBuild"] == ["RUN echo child"]


@pytest.mark.parametrize("name", FIXTURES + ["edge"])
def test_offline_way(engine, scratch_tags, tmp_path, name):
    original = _image(name)
    out = tmp_path / "slim.tar"
    doc = _slim(original, "--via", "offline", "-o", str(out))
    assert doc["via"] == "offline" and doc["after"]["layers"] == 1
    before, after = doc["before"], doc["after"]
    wasted = sum(s["bytes"] for s in doc["saved"])
    assert after["total_bytes"] <= before["total_bytes"] - wasted
    loaded = _load(engine, out)
    scratch_tags.append(loaded)
    _check(engine, original, loaded)
    if name == "edge":
        headers = _export_headers(engine, loaded)
        assert headers["/capdir/ping"][CAP_KEY].encode("utf-8", "surrogateescape") == CAP


REMOVE = ["--remove", "/e/keep", "--remove", "/e/pair-a", "--remove", "/capdir/hl-b",
          "--preset", "tmp"]
REMOVED = ["/e/keep", "/e/pair-a", "/capdir/hl-b", "/tmp/junk"]


@pytest.mark.parametrize("way", ["engine", "offline"])
def test_remove_and_preset(engine, scratch_tags, way):
    original = edge_image()
    tag = named(f"slimmed-edge:remove-{way}")
    scratch_tags.append(tag)
    doc = _slim(original, "--via", way, "--tag", tag, "--force", *REMOVE)
    rules = {r["rule"]: r for r in doc["removed"]}
    assert rules["preset:tmp"]["paths"] == 1 and rules["preset:tmp"]["bytes"] == 4
    # /e/pair-a goes but its twin /e/pair-b (same layer, same body) keeps the body
    assert rules["remove:/e/pair-a"]["bytes"] == 0
    # /capdir/hl-b's first name died in a later layer; it was the last name of its body
    # (overlayfs copied the body up for /capdir/hl-cross)
    assert rules["remove:/capdir/hl-b"]["bytes"] == len(b"hardlinked body\n")
    snap = export_snapshot(tag)
    assert snap["/e/pair-b"][:2] == ("file", len(b"pair\n"))
    assert snap["/capdir/hl-cross"][:2] == ("file", len(b"hardlinked body\n"))
    assert "/tmp" in snap and "/e/sym-dir" in snap   # a dangling symlink stays as it was
    expected = _minus(export_snapshot(original), REMOVED)
    assert snap == expected


def test_keep_base(engine, scratch_tags):
    original = edge_image()
    tag = named("slimmed-edge:keep-base")
    scratch_tags.append(tag)
    doc = _slim(original, "--keep-base", "--tag", tag, "--force", "--remove", "/bin/vi")
    assert doc["via"] == "offline" and doc["base_layers_kept"] == 1
    base_ids = engine.api.inspect_image(bases.BUSYBOX_TAG)["RootFS"]["Layers"]
    got = engine.api.inspect_image(tag)["RootFS"]["Layers"]
    assert got[:1] == base_ids and len(got) == 2
    _check(engine, original, tag, removed=["/bin/vi"])


MANY_LAYERS_DOCKERFILE = f"""FROM {bases.BUSYBOX_TAG}
""" + "".join(f"RUN echo {i} > /layer-{i} && head -c {1000 + i} /dev/zero > /pad-{i}\n"
              for i in range(6)) + "RUN rm /pad-5 && echo top > /top\n"


@pytest.mark.parametrize("source", ["engine", "oci-archive"])
def test_keep_base_keeps_the_base_in_layer_order(engine, scratch_tags, tmp_path, source):
    """Sources stream layers in the order they store them (a save stream sorts by
    layer id): the kept base must still come out in layer order, byte for byte."""
    original = images.build_image(named("slim-many-layers:latest"), MANY_LAYERS_DOCKERFILE, {})
    layers = engine.api.inspect_image(original)["RootFS"]["Layers"]
    name = original
    if source == "oci-archive":
        name = f"oci-archive:{oci_archive(original, tmp_path / 'many.oci.tar')}"
    tag = named(f"slimmed-many:{source}")
    scratch_tags.append(tag)
    doc = _slim(name, "--keep-base", "--base-layers", "5", "--tag", tag, "--force")
    assert doc["base_layers_kept"] == 5
    got = engine.api.inspect_image(tag)["RootFS"]["Layers"]
    assert got[:5] == layers[:5] and len(got) == 6


def test_verifier_checks_the_kept_base_position_for_position():
    from types import SimpleNamespace as NS

    from slimscope.slim.verify import base_differences

    def image(*ids):
        return NS(layers=[NS(diff_id=i) for i in ids])

    assert base_differences(image("a", "b", "c"), image("a", "b", "x"), 2) == []
    assert len(base_differences(image("a", "b", "c"), image("b", "a", "x"), 2)) == 2
    assert base_differences(image("a", "b"), image("a"), 2) == [
        "layer 1: expected the base layer b, got none"]


def test_dry_run_and_refusals(engine, scratch_tags, tmp_path):
    original = images.fixture_image("hidden-deletion")
    tag = named("slimmed-hidden:refuse")
    r = CliRunner().invoke(main, ["slim", original, "--tag", tag, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "hidden deletions" in r.output and "307.2 kB" in r.output
    with pytest.raises(Exception):
        engine.api.inspect_image(tag)
    # an existing tag is not replaced without --force
    engine.api.tag(bases.BUSYBOX_TAG, *tag.split(":"))
    scratch_tags.append(tag)
    before = engine.api.inspect_image(tag)["Id"]
    r = CliRunner().invoke(main, ["slim", original, "--tag", tag])
    assert r.exit_code == 2 and "--force" in r.output
    assert engine.api.inspect_image(tag)["Id"] == before
    # the source tag itself is refused even with --force
    r = CliRunner().invoke(main, ["slim", original, "--tag", original, "--force"])
    assert r.exit_code == 2 and "source" in r.output


RUN_LABEL = "org.slimscope.test.run"


def test_failed_smoke_leaves_nothing(engine, scratch_tags, tmp_path):
    # The original carries a label unique to this test run, and slim copies
    # every label into what it makes, so the images this test could have
    # created are exactly those with the label: other users of the engine
    # cannot disturb the count, and a leaked image (tagged or not) is caught.
    original = images.build_image(
        named(f"smoke-src-{RUN_ID}:latest"),
        f"FROM {images.fixture_image('hidden-deletion')}\nLABEL {RUN_LABEL}={RUN_ID}\n")
    scratch_tags.append(original)
    tag = named(f"slimmed-hidden-{RUN_ID}:smoke")
    out = tmp_path / "s.tar"

    def ours() -> set:
        return {i["Id"] for i in engine.api.images(all=True,
                                                    filters={"label": f"{RUN_LABEL}={RUN_ID}"})}

    before = ours()     # the original and the builder's intermediate image
    assert engine.api.inspect_image(original)["Id"] in before
    r = CliRunner().invoke(main, ["slim", original, "--tag", tag, "-o", str(out),
                                  "--smoke", "cat /proc/sys/kernel/random/uuid"])
    assert r.exit_code == 1 and "stdout differs" in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(Exception):
        engine.api.inspect_image(tag)
    assert ours() == before


def test_smoke_passes(engine, scratch_tags):
    original = images.fixture_image("setuid")
    tag = named("slimmed-setuid:smoke")
    scratch_tags.append(tag)
    doc = _slim(original, "--tag", tag, "--force", "--smoke", "cat /etc/passwd")
    assert "exit code 0" in doc["smoke"]


DEBIAN_DOCKERFILE = f"""FROM {bases.DEBIAN_TAG}
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \\
 && cp /bin/true /usr/local/bin/captrue \\
 && setcap cap_net_bind_service+ep /usr/local/bin/captrue
RUN rm -rf /usr/share/doc/libcap2-bin
CMD ["sh", "-c", "getcap /usr/local/bin/captrue; ls /usr/share/doc | wc -l"]
"""


DEBIAN_IMAGE = named("slim-debian:latest")
# built in the background from the session's start (tests/support/prewarm.py)
PREWARM = [(DEBIAN_IMAGE, lambda: images.build_image(DEBIAN_IMAGE, DEBIAN_DOCKERFILE))]


@pytest.fixture(scope="module")
def debian_original(engine):
    """The Debian image (~300 MB) and what both ways compare with, read once:
    its run output, its export minus what the apt preset removes."""
    from slimscope.core.analysis import analyze
    from slimscope.slim.plan import make_plan

    original = images.build_image(DEBIAN_IMAGE, DEBIAN_DOCKERFILE)
    removed = make_plan(analyze(original), presets=["apt"]).removed
    expected = {p: v for p, v in export_snapshot(original).items() if p not in removed}
    return original, _run(engine, original), expected


@pytest.mark.parametrize("way", ["engine", "offline"])
def test_debian_apt_fixture(engine, scratch_tags, debian_original, way):
    original, original_run, expected = debian_original
    tag = named(f"slimmed-debian:{way}")
    scratch_tags.append(tag)
    doc = _slim(original, "--via", way, "--tag", tag, "--force", "--preset", "apt",
                "--no-compressed")
    assert doc["after"]["total_bytes"] < doc["before"]["total_bytes"]
    apt = {r["rule"]: r for r in doc["removed"]}["preset:apt"]
    assert apt["bytes"] > 1_000_000     # the package lists
    code, out = _run(engine, tag)
    assert code == 0 and b"cap_net_bind_service" in out
    assert (code, out) == original_run
    assert export_snapshot(tag) == expected
    assert "/var/lib/apt/lists/partial" in expected
    _assert_same_config(engine, original, tag)


def test_engine_way_verifies_what_it_loads_without_saving_it_again(engine, scratch_tags,
                                                                    monkeypatch):
    """The output is verified from the archive given to `docker load` (while the engine
    loads it), not from a second `docker save`; the engine must then hold exactly the
    verified layers, or nothing is written."""
    from slimscope.image import daemon

    original = _image(FIXTURES[0])
    saved = []
    real_open = daemon.DaemonSource.open_stream

    def open_stream(self):
        saved.append(self.ref)
        return real_open(self)
    monkeypatch.setattr(daemon.DaemonSource, "open_stream", open_stream)
    tag = named("slimmed-verify:engine")
    scratch_tags.append(tag)
    doc = _slim(original, "--tag", tag, "--force")
    assert doc["via"] == "engine" and doc["verified"]
    assert saved == [original]          # the input once; the output not at all
    _check(engine, original, tag)

    # an engine that holds other layers than the ones verified: refused, no tag given
    real_inspect = type(engine.api).inspect_image

    def inspect_image(api, ref):
        got = real_inspect(api, ref)
        if "slim" in str(ref) and ref != tag:
            got = dict(got, RootFS={"Type": "layers", "Layers": ["sha256:" + "0" * 64]})
        return got
    monkeypatch.setattr(type(engine.api), "inspect_image", inspect_image)
    other = named("slimmed-verify-refused:engine")
    r = CliRunner().invoke(main, ["slim", original, "--tag", other])
    assert r.exit_code == 1 and "not the verified" in r.output, r.output
    assert not engine.images.list(name=other)
