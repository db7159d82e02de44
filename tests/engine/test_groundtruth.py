"""The analyzer against the ground truth: `docker export` of a container from the image.

Every fixture image is built by the real engine, then read in every form a user
may hand over (straight from the engine, `docker save`, the same gzip'd, re-packed
as Docker >= 25 writes it, OCI layouts with gzip and zstd layers, an OCI archive).
Each form must give the filesystem the engine shows, path by path, and the
waste the fixture was built to have.
"""

from __future__ import annotations

import pytest

from slimscope.core import snapshot
from slimscope.core.analysis import analyze
from tests.support import images
from tests.support.engine import export_snapshot
from tests.support.expectations import FAST, SLOW, check_expectations
from tests.support.forms import oci_archive, oci_layout, repack_docker25, save_archive, save_gzip

pytestmark = pytest.mark.engine

FORMS = ["daemon", "docker-save", "docker-save-gz", "docker25", "oci-gzip", "oci-zstd",
         "oci-archive"]
# the Debian fixtures, built in the background from the session's start
PREWARM = [(images.fixture_tag(n), lambda n=n: images.fixture_image(n)) for n in SLOW]


@pytest.fixture(scope="module")
def built(engine, tmp_path_factory):
    """built(name, *forms) -> (tag, export snapshot, {form: image argument}).

    A fixture image is built once and written only in the forms some test asks
    for, each once: the Debian fixture in all seven would be gigabytes."""
    made: dict = {}

    def get(name: str, *wanted: str):
        if name not in made:
            tag = images.fixture_image(name)
            made[name] = (tag, export_snapshot(tag), {"daemon": tag},
                          tmp_path_factory.mktemp(name))
        tag, truth, forms, d = made[name]
        for form in wanted:
            if form not in forms:
                forms[form] = _write_form(tag, form, d, forms)
        return tag, truth, forms

    return get


def _write_form(tag: str, form: str, d, forms: dict) -> str:
    if form == "docker-save":
        return str(save_archive(tag, d / "save.tar"))
    if form == "docker-save-gz":
        return str(save_gzip(tag, d / "save.tar.gz"))
    if form == "docker25":
        saved = forms.get("docker-save") or str(save_archive(tag, d / "save.tar"))
        forms["docker-save"] = saved
        return str(repack_docker25(saved, d / "d25.tar"))
    if form == "oci-gzip":
        return "oci:" + str(oci_layout(tag, d / "oci-gz", "gzip"))
    if form == "oci-zstd":
        return "oci:" + str(oci_layout(tag, d / "oci-zstd", "zstd"))
    if form == "oci-archive":
        return "oci-archive:" + str(oci_archive(tag, d / "i.oci.tar"))
    raise ValueError(form)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", FAST)
def test_fixture_matches_docker_export(built, name, form):
    assert_matches_export(built, name, form)


def assert_matches_export(built, name, form):
    """The analysis of one form equals the export, path by path, and meets the fixture's claims."""
    tag, truth, forms = built(name, form)
    a = analyze(forms[form], use_cache=False)
    assert snapshot.diff(truth, snapshot.from_analysis(a)) == []
    assert a.wasted_bytes == a.total_bytes - a.final_bytes
    check_expectations(a, images.FIXTURES[name][2])
    return a


@pytest.mark.parametrize("form", ["daemon", "oci-zstd"])
@pytest.mark.parametrize("name", SLOW)
def test_debian_fixture_matches_docker_export(built, name, form):
    a = assert_matches_export(built, name, form)
    ids = {h.id for h in a.hints}
    assert {"apt-lists", "apt-archives", "build-tools"} <= ids


def test_every_form_agrees_byte_for_byte(built):
    _, _, forms = built("secrets", *FORMS)
    results = [analyze(forms[f], use_cache=False) for f in FORMS]
    key = [(a.total_bytes, a.final_bytes, [(w.path, w.reason, w.layer, w.hidden_by)
                                           for w in a.waste]) for a in results]
    assert all(k == key[0] for k in key)
    assert results[0].image.id == results[1].image.id


def test_engine_image_not_there_is_one_line(engine):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "slimscope", "analyze", "slimscope-test/nope:none"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip() == "slimscope: no image 'slimscope-test/nope:none' in the Docker engine"
