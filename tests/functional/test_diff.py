"""`slimscope diff` on real images and on saved JSON reports."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.core.analysis import analyze
from slimscope.core.delta import compare, load_view, view_of
from tests.support.bases import BUSYBOX_TAG
from tests.support.engine import REPO_ROOT, named
from tests.support.forms import save_archive
from tests.support.images import build_image

DEMO = REPO_ROOT / "sample-images" / "demo.tar"
DEMO_OCI = REPO_ROOT / "sample-images" / "demo-oci"
needs_demo = pytest.mark.skipif(not DEMO.exists(), reason="sample-images/demo.tar is missing")

# What the demo image adds over its busybox base, as the final filesystem counts it:
# the hardlink libdemo.so.1 shares libdemo-later.so.1's body; /app/twin's twin is gone.
DEMO_ADDED = {"/app/data/blob.bin": 65_536, "/app/config.json": 30_000,
              "/app/lib/libdemo-copy.so.1": 30_000, "/app/lib/libdemo-later.so.1": 30_000,
              "/app/twin": 12_000, "/app/.env": 158, "/usr/local/bin/demo-suid": 20,
              "/app/was-dir": 11, "/app/cache/c": 6, "/app/was-file/inner": 3,
              "/app/lib/broken": 0, "/app/lib/libdemo.so": 0, "/app/lib/libdemo.so.1": 0,
              "/app/libdir": 0}


def run(*args):
    r = CliRunner().invoke(main, [*map(str, args)])
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r


@needs_demo
def test_view_counts_each_body_once():
    a = analyze(str(DEMO))
    v = view_of(a)
    assert sum(n for _, n in v.files.counted_files()) == a.final_bytes
    assert v.files.counted[v.files.group["/app/lib/libdemo.so.1"]] == 0   # its twin is still there
    assert v.files.counted[v.files.group["/app/twin"]] == 12_000          # its twin was deleted


@needs_demo
def test_same_image_in_two_forms_and_as_a_report(tmp_path):
    r = run("diff", DEMO, DEMO_OCI)
    assert r.exit_code == 0, r.output
    assert "Layers: 7 shared" in r.output and "0 only in old, 0 only in new" in r.output
    assert "Files: none grew" in r.output
    report = tmp_path / "demo.json"
    assert run("analyze", DEMO, "--format", "json", "--files", "-o", report).exit_code == 0
    for old, new in ((report, DEMO_OCI), (DEMO_OCI, report), (report, report)):
        r = run("diff", old, new, "--format", "json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        assert doc["schema"] == "slimscope.diff/v1"
        assert doc["files"] == [] and doc["directories"] == []
        assert doc["layers"] == {"shared": 7, "removed": [], "added": []}
        assert doc["totals"]["final_bytes"]["change"] == 0


@pytest.fixture(scope="session")
def busybox_tar(engine, tmp_path_factory):
    from tests.support.bases import busybox_base
    return save_archive(busybox_base(), tmp_path_factory.mktemp("diff") / "busybox.tar")


@needs_demo
@pytest.mark.engine
def test_base_to_demo(busybox_tar, tmp_path):
    d = compare(load_view(str(busybox_tar)), load_view(str(DEMO)))
    assert {c.path: c.new_bytes for c in d.files} == DEMO_ADDED
    assert all(c.change == "added" for c in d.files)
    assert [c.path for c in d.files[:2]] == ["/app/data/blob.bin", "/app/config.json"]
    assert len(d.shared_layers) == 1 and len(d.added_layers) == 6 and not d.removed_layers
    dirs = {p: (o, n) for p, o, n in d.dirs}
    assert dirs["/app"] == (0, 167_714) and dirs["/app/lib"] == (0, 60_000)
    assert d.growth == sum(DEMO_ADDED.values())
    # Turned around, the same files vanish.
    back = compare(load_view(str(DEMO)), load_view(str(busybox_tar)))
    assert {c.path: -c.delta for c in back.files} == DEMO_ADDED
    assert {c.change for c in back.files} == {"removed"}
    assert len(back.removed_layers) == 6 and back.growth == -d.growth


@needs_demo
@pytest.mark.engine
def test_saved_reports_on_either_side_match_images(busybox_tar, tmp_path):
    ci_json = tmp_path / "ci.json"
    r = run("ci", busybox_tar, "--max-layers", 5, "--json", ci_json)
    assert r.exit_code == 0, r.output
    by_images = json.loads(run("diff", busybox_tar, DEMO, "--format", "json").output)
    by_report = json.loads(run("diff", ci_json, DEMO, "--format", "json").output)
    assert by_report["old"]["origin"] == str(ci_json)
    for key in ("totals", "layers", "directories", "files"):
        assert by_report[key] == by_images[key], key
    md = run("diff", DEMO, ci_json, "--format", "markdown", "-o", tmp_path / "d.md")
    assert md.exit_code == 0
    text = (tmp_path / "d.md").read_text()
    assert "| -65.5 kB | removed | 65.5 kB | 0 Bytes | `/app/data/blob.bin` |" in text
    assert "### Layers" in text and "| − | 6 |" in text


@needs_demo
def test_report_without_files_gives_totals_and_layers(tmp_path):
    plain = tmp_path / "plain.json"
    assert run("analyze", DEMO, "--format", "json", "-o", plain).exit_code == 0
    r = run("diff", plain, DEMO)
    assert r.exit_code == 0
    assert "Layers: 7 shared" in r.output
    assert "per-file data is missing from the old side" in r.output
    doc = json.loads(run("diff", plain, DEMO, "--format", "json").output)
    assert doc["files"] is None and doc["directories"] is None and doc["notes"]


def test_bad_inputs_exit_2(tmp_path):
    wrong = tmp_path / "w.json"
    wrong.write_text('{"schema": "other/v1"}')
    r = run("diff", wrong, tmp_path / "missing.tar")
    assert r.exit_code == 2 and "not a slimscope report" in r.stderr
    r = run("diff", tmp_path / "missing.tar", wrong)
    assert r.exit_code == 2 and r.stderr.startswith("slimscope: ")
    broken = tmp_path / "b.json"
    broken.write_text('{"schema": "slimscope.analysis/v1", "image": {}}')
    r = run("diff", broken, broken)
    assert r.exit_code == 2 and "malformed" in r.stderr


@pytest.fixture(scope="session")
def pair(engine, tmp_path_factory):
    """Two versions of one small app: a file grows, one shrinks, one changes
    content at the same size, one appears, one vanishes."""
    d = tmp_path_factory.mktemp("diff-pair")
    v1 = build_image(named("diff-pair:v1"), f"FROM {BUSYBOX_TAG}\n"
                     "RUN mkdir /srv && head -c 1000 /dev/zero | tr '\\0' a > /srv/grows"
                     " && head -c 5000 /dev/zero | tr '\\0' b > /srv/shrinks"
                     " && head -c 700 /dev/zero | tr '\\0' c > /srv/same-size"
                     " && head -c 300 /dev/zero | tr '\\0' d > /srv/gone\n")
    v2 = build_image(named("diff-pair:v2"), f"FROM {BUSYBOX_TAG}\n"
                     "RUN mkdir /srv && head -c 4000 /dev/zero | tr '\\0' a > /srv/grows"
                     " && head -c 2000 /dev/zero | tr '\\0' b > /srv/shrinks"
                     " && head -c 700 /dev/zero | tr '\\0' C > /srv/same-size"
                     " && head -c 50 /dev/zero | tr '\\0' e > /srv/new\n")
    return save_archive(v1, d / "v1.tar"), save_archive(v2, d / "v2.tar")


@pytest.mark.engine
def test_grew_shrank_changed_added_removed(pair):
    v1, v2 = pair
    r = run("diff", v1, v2, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    files = [(f["path"], f["change"], f["delta"]) for f in doc["files"]]
    assert files == [("/srv/grows", "grew", 3000), ("/srv/shrinks", "shrank", -3000),
                     ("/srv/gone", "removed", -300), ("/srv/new", "added", 50),
                     ("/srv/same-size", "changed", 0)]
    assert doc["directories"] == [{"path": "/srv", "old_bytes": 7000, "new_bytes": 6750,
                                   "change": -250}]
    assert doc["totals"]["final_bytes"]["change"] == -250
    assert doc["layers"]["shared"] == 1
    assert len(doc["layers"]["added"]) == 1 and len(doc["layers"]["removed"]) == 1
    text = run("diff", v1, v2, "--top", "2").output
    assert "+3.0 kB  grew     /srv/grows" in text and "/srv/gone" not in text
