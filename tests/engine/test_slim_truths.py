"""`slim --via engine` says "verified" only about what is so: the image's own
/etc/hostname and /etc/resolv.conf keep their bytes (the export shows the engine's
empty mount points there), and the image's history is kept as the offline way keeps it
(`docker import` left one "Imported from -" line)."""

from __future__ import annotations

import json
import tarfile

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from tests.support import bases, forms, images
from tests.support.engine import named

pytestmark = pytest.mark.engine

HOSTNAME = b"h9-own-hostname\n"
RESOLV = b"nameserver 192.0.2.53\nsearch h9.example\n"
DOCKERFILE = f"""FROM {bases.BUSYBOX_TAG}
COPY hostname /etc/hostname
COPY resolv.conf /etc/resolv.conf
RUN echo one > /one
RUN echo two > /two
CMD ["cat", "/etc/hostname"]
"""
TAG = named("h9-etc-files:src")
OUT_TAG = named("h9-etc-files:slim-engine")


def _files_of(client, ref: str, tmp_path, names) -> dict:
    """name -> (bytes, mode) as the image's layers hold them: from `docker save`, not
    from a container (whose files at these names are the engine's)."""
    archive = forms.save_archive(ref, tmp_path / "saved.tar")
    found = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer), mode="r|") as tf:
                for ti in tf:
                    name = "/" + ti.name.lstrip("./")
                    if name in names and ti.isreg():
                        found[name] = (tf.extractfile(ti).read(), ti.mode & 0o7777)
    return found


@pytest.fixture()
def slimmed(engine):
    images.build_image(TAG, DOCKERFILE, {"hostname": HOSTNAME, "resolv.conf": RESOLV})
    r = CliRunner().invoke(main, ["slim", TAG, "--via", "engine", "--tag", OUT_TAG, "--force",
                                  "--no-compressed"], catch_exceptions=False)
    yield r
    try:
        engine.api.remove_image(OUT_TAG, force=True)
    except Exception:
        pass


def test_the_images_own_etc_files_keep_their_bytes(engine, slimmed, tmp_path):
    names = {"/etc/hostname", "/etc/resolv.conf"}
    want = _files_of(engine, TAG, tmp_path, names)
    assert want == {"/etc/hostname": (HOSTNAME, 0o644), "/etc/resolv.conf": (RESOLV, 0o644)}
    assert slimmed.exit_code == 0, slimmed.output
    # Before: both were empty files, and the report still said "verified".
    assert _files_of(engine, OUT_TAG, tmp_path, names) == want
    assert "verified: the output's filesystem and config equal the input's" in slimmed.output
    assert "hidden by the engine" not in slimmed.output


def test_the_history_is_kept(engine, slimmed):
    assert slimmed.exit_code == 0, slimmed.output
    before = [h["CreatedBy"] for h in engine.api.history(TAG)]
    after = [h["CreatedBy"] for h in engine.api.history(OUT_TAG)]
    # Before: one line, "Imported from -". docker history lists the newest first.
    assert after[0] == "slimscope slim"
    assert after[1:] == before
    cfg = engine.api.inspect_image(OUT_TAG)
    assert len(cfg["RootFS"]["Layers"]) == 1
    assert cfg["Config"]["Cmd"] == ["cat", "/etc/hostname"]
