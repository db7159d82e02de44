"""What a name picks (`oci:DIR:TAG`, `docker-archive:PATH:NAME:TAG`), --platform held
against the image, stdin and pipes, and the one-line answers to names that cannot be
read. Each case here was a wrong image or a message not meant for users before."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from slimscope.errors import BadInput
from slimscope.image.model import Options
from slimscope.image.reference import ARCHIVE, DAEMON, OCI_DIR, PIPE, Reference, load_image, parse_reference
from tests.support.synth import docker_archive, oci_archive, oci_layout

ONE = [[("a", "file", b"a" * 10)]]
TWO = [[("b", "file", b"b" * 20)], [("c", "file", b"c" * 30)]]
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/slimscope-h9-test.sock"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "slimscope", *args], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": ROOT, **(env or {})})


def multi_archive(path, images):
    """One `docker save` archive holding several images: {tag: layers}."""
    manifest, members = [], {}
    for i, (tag, layers) in enumerate(images.items()):
        one = docker_archive(f"{path}.{i}", layers, tag=tag)
        with tarfile.open(one) as tf:
            for ti in tf:
                data = tf.extractfile(ti).read()
                if ti.name == "manifest.json":
                    manifest += json.loads(data)
                else:
                    members[ti.name] = data
        os.unlink(one)
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return path


@pytest.fixture
def layout(tmp_path):
    return oci_layout(str(tmp_path / "layout"), ONE, ref="1.0")


# -- 1: the tag of oci:DIR:TAG and oci-archive:FILE:TAG picks the image ----------------

def test_oci_tag_is_kept_by_the_parser(layout):
    # Before: the ":1.0" was dropped, and ":nope" read the layout's only image.
    assert parse_reference(f"oci:{layout}:1.0") == Reference(OCI_DIR, layout, False, "1.0")
    assert parse_reference(f"oci:{layout}") == Reference(OCI_DIR, layout, False)


def test_oci_tag_that_is_not_there_lists_what_is(layout, tmp_path):
    with pytest.raises(BadInput, match=r"no image 'nope' here; it holds: 1.0"):
        load_image(f"oci:{layout}:nope")
    archive = oci_archive(str(tmp_path / "i.oci.tar"), layout)
    with pytest.raises(BadInput, match=r"no image 'nope' here; it holds: 1.0"):
        load_image(f"oci-archive:{archive}:nope")
    assert len(load_image(f"oci-archive:{archive}:1.0").layers) == 1


def test_the_name_and_image_option_must_agree(layout):
    assert load_image(f"oci:{layout}:1.0", Options(image="1.0")).layers
    with pytest.raises(BadInput, match="the name picks the image '1.0' and --image 'x'"):
        load_image(f"oci:{layout}:1.0", Options(image="x"))


# -- 2: docker-archive:FILE:NAME:TAG --------------------------------------------------

def test_docker_archive_name_and_tag_pick_one_image(tmp_path):
    path = multi_archive(str(tmp_path / "multi.tar"), {"aa:1": ONE, "bb:1": TWO})
    # Before: "no such archive: .../multi.tar:bb:1".
    assert parse_reference(f"docker-archive:{path}:bb:1") == Reference(ARCHIVE, path, False, "bb:1")
    assert len(load_image(f"docker-archive:{path}:bb:1").layers) == 2
    assert len(load_image(f"docker-archive:{path}:aa:1").layers) == 1
    with pytest.raises(BadInput, match="no image 'cc:1' here; it holds: aa:1, bb:1"):
        load_image(f"docker-archive:{path}:cc:1")


def test_a_path_with_colons_is_still_a_path(tmp_path):
    path = docker_archive(str(tmp_path / "a:b.tar"), ONE)
    assert parse_reference(f"docker-archive:{path}") == Reference(ARCHIVE, path, False)


# -- 3: --platform ---------------------------------------------------------------------

@pytest.mark.parametrize("value, match", [
    ("", "--platform is empty"),
    ("bogus", "--platform wants OS/ARCH\\[/VARIANT\\]"),
    ("linux/", "--platform wants OS/ARCH"),
])
def test_a_malformed_platform_is_refused_whatever_the_image(tmp_path, value, match):
    path = docker_archive(str(tmp_path / "i.tar"), ONE)
    with pytest.raises(BadInput, match=match):
        load_image(path, Options(platform=value))


def test_a_platform_the_image_is_not_is_refused_naming_its_own(tmp_path, layout):
    path = docker_archive(str(tmp_path / "i.tar"), ONE)
    # Before: an amd64 report, exit 0, for both.
    with pytest.raises(BadInput, match="no image for platform linux/arm64; it is linux/amd64"):
        load_image(path, Options(platform="linux/arm64"))
    with pytest.raises(BadInput, match="no image for platform linux/arm64; it is linux/amd64"):
        load_image(layout, Options(platform="linux/arm64"))
    assert load_image(path, Options(platform="linux/amd64")).layers


def test_a_multi_platform_index_still_picks_by_platform(tmp_path):
    d = oci_layout(str(tmp_path / "multi"), ONE, platforms=["linux/amd64", "linux/arm64"])
    assert load_image(d, Options(platform="linux/arm64")).architecture == "arm64"
    with pytest.raises(BadInput, match="no manifest for platform linux/s390x"):
        load_image(d, Options(platform="linux/s390x"))


# -- 4: stdin and pipes, one pass ----------------------------------------------------------

def test_dash_is_stdin():
    assert parse_reference("-") == Reference(PIPE, "-", True)
    assert parse_reference("docker-archive:-") == Reference(PIPE, "-", False)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_analyze_reads_a_piped_archive(tmp_path, gz, name):
    data = open(docker_archive(str(tmp_path / "i.tar"), TWO, tag="piped:1", gz=gz), "rb").read()
    # Before: "-" went to the engine as a reference, /dev/stdin was "neither an archive...".
    got = _cli("analyze", name, "--format", "json", "--no-cache", stdin=data, env=NO_ENGINE)
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["image"]["reference"] == "piped:1"
    assert len(doc["layers"]) == 2


def test_a_piped_archive_is_read_again_from_the_copy(tmp_path):
    # slim reads the layers a second time: from the copy the one pass kept, not the pipe.
    data = open(docker_archive(str(tmp_path / "i.tar"), TWO, gz=True), "rb").read()
    out = tmp_path / "out.tar"
    got = _cli("slim", "-", "-o", str(out), "--no-compressed", stdin=data, env=NO_ENGINE)
    assert got.returncode == 0, got.stderr
    from slimscope.core.analysis import analyze
    assert {"/b", "/c"} <= set(analyze(str(out), use_cache=False).composed.final)


def test_a_fifo_is_read_as_a_stream(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = open(docker_archive(str(tmp_path / "i.tar"), ONE, tag="fifo:1"), "rb").read()
    assert parse_reference(str(fifo)) == Reference(PIPE, str(fifo), True)
    writer = subprocess.Popen(["sh", "-c", f"cat > '{fifo}'"], stdin=subprocess.PIPE)
    writer.stdin.write(data)
    writer.stdin.close()
    image = load_image(str(fifo))
    writer.wait(timeout=30)
    assert image.reference == "fifo:1"


# -- 5: names that cannot be read, in words for users -------------------------------------

def test_an_empty_name():
    with pytest.raises(BadInput, match="an empty image name"):
        parse_reference("")


@pytest.mark.parametrize("name", ["UPPER/Case:1", "Upper:1", "docker-daemon:Upper:1"])
def test_an_invalid_reference_is_said_before_the_engine_is_asked(name):
    with pytest.raises(BadInput, match="not a valid image reference.*lower case"):
        load_image(name)


@pytest.mark.parametrize("name", ["app:1", "registry.example.com:5000/team/app:1.2",
                                  "Registry.Example.com/app", "localhost/a_b/c-d:x",
                                  "app@sha256:" + "a" * 64, "sha256:" + "b" * 64])
def test_valid_references_pass(name):
    assert parse_reference(name) == Reference(DAEMON, name, True)


def test_a_missing_tar_says_no_such_file_first():
    got = _cli("analyze", "nope-h9.tar", env=NO_ENGINE)
    assert got.returncode == 2
    line, = got.stderr.decode().splitlines()
    assert line.startswith("slimscope: no such file: nope-h9.tar, and "), line


@pytest.mark.parametrize("args", [
    ["analyze", "sample-images/demo.tar", "-o", ""],
    ["diff", "sample-images/demo.tar", "sample-images/demo.tar", "-o", ""],
    ["dockerfile", "--image", "sample-images/demo.tar", "-o", ""],
    ["slim", "sample-images/demo.tar", "-o", "", "--dry-run"],
    ["analyze", "sample-images/demo.tar", "--platform", ""],
])
def test_empty_output_and_platform_are_refused(args):
    # Before: all exit 0; -o '' printed to stdout, --platform '' was ignored.
    got = _cli(*args, env=NO_ENGINE)
    assert got.returncode == 2, got.stdout[-300:]
    line, = got.stderr.decode().splitlines()
    assert "is empty" in line


def test_a_malformed_platform_is_said_by_ci_in_its_junit_and_by_tui_before_its_window(tmp_path):
    junit = tmp_path / "j.xml"
    got = _cli("ci", "sample-images/demo.tar", "--platform", "bogus", "--junit", str(junit),
               env=NO_ENGINE)
    assert got.returncode == 2 and "--platform wants OS/ARCH" in got.stderr.decode()
    assert "--platform wants OS/ARCH" in junit.read_text()
    got = _cli("tui", "sample-images/demo.tar", "--platform", "bogus", env=NO_ENGINE)
    assert got.returncode == 2
    assert got.stderr.decode().splitlines() == [
        "slimscope: --platform wants OS/ARCH[/VARIANT] (e.g. linux/amd64), got 'bogus'"]
