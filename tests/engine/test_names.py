"""Names on images the engine made, and the archives skopeo and `docker save` write of
them: what follows the path picks the image, --platform is held against the config,
`docker save | slimscope analyze -` reads the pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from slimscope.errors import BadInput
from slimscope.image.model import Options
from slimscope.image.reference import load_image
from tests.support import bases, forms, images
from tests.support.engine import REPO_ROOT, named

pytestmark = pytest.mark.engine

ROOT = str(REPO_ROOT)   # where `python -m slimscope` finds the package without an install
A = named("h9-names-a:1")
B = named("h9-names-b:1")


@pytest.fixture(scope="module")
def built_images():
    bases.busybox_base()
    images.build_image(A, f"FROM {bases.BUSYBOX_TAG}\nRUN echo a > /a\n")
    images.build_image(B, f"FROM {bases.BUSYBOX_TAG}\nRUN echo b > /b\nRUN echo bb > /bb\n")
    return A, B


def test_a_tag_after_the_layout_picks_it_or_lists_what_is_there(built_images, tmp_path):
    layout = forms.oci_layout(A, tmp_path / "oci")
    archive = forms.oci_archive(A, tmp_path / "a.oci.tar")
    assert len(load_image(f"oci:{layout}:latest").layers) == 2
    for name in (f"oci:{layout}:nope", f"oci-archive:{archive}:nope"):
        # Before: the image tagged latest was read, exit 0.
        with pytest.raises(BadInput, match="no image 'nope' here; it holds: latest"):
            load_image(name)


def test_docker_archive_of_two_images_picks_by_name(built_images, tmp_path):
    path = tmp_path / "two.tar"
    subprocess.run(["docker", "save", "-o", str(path), A, B], check=True)
    # Before: "no such archive: .../two.tar:slimscope-test/h9-names-b:1".
    assert len(load_image(f"docker-archive:{path}:{B}").layers) == 3
    assert len(load_image(f"docker-archive:{path}:{A}").layers) == 2


def test_platform_of_an_engine_image_and_its_archive(built_images, tmp_path):
    archive = forms.save_archive(A, tmp_path / "a.tar")
    arch = load_image(A).architecture
    other = "linux/s390x" if arch != "s390x" else "linux/amd64"
    for name in (A, str(archive)):
        with pytest.raises(BadInput, match=f"no image for platform {other}; it is linux/{arch}"):
            load_image(name, Options(platform=other))
        assert load_image(name, Options(platform=f"linux/{arch}")).layers


@pytest.mark.parametrize("gz", [False, True])
def test_docker_save_piped_into_analyze(built_images, gz):
    save = subprocess.Popen(["docker", "save", B], stdout=subprocess.PIPE)
    feed = save.stdout
    if gz:
        zipped = subprocess.Popen(["gzip", "-1"], stdin=save.stdout, stdout=subprocess.PIPE)
        save.stdout.close()
        feed = zipped.stdout
    got = subprocess.run([sys.executable, "-m", "slimscope", "analyze", "-", "--format", "json",
                          "--no-cache"], stdin=feed, capture_output=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)
    feed.close()
    save.wait(timeout=60)
    # Before: "-" reached the engine as a reference (a raw 400).
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["image"]["reference"] == B and len(doc["layers"]) == 3
