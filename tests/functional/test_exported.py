"""podman:REF and containerd:REF, read through `podman image save` and
`ctr images export` from a real Podman store and a containerd started here (its
own root, state and socket in a temporary directory; the machine's containerd is
left alone). Skipped locally without the tools, failed under CI=true."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from slimscope.core.analysis import analyze
from slimscope.core.report import to_json
from slimscope.errors import BadInput
from slimscope.image import registry_auth as registry_mod
from slimscope.image.registry_auth import Access
from tests.support.registry import require_tools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "sample-images", "demo.tar")


def report(name):
    doc = to_json(analyze(name, use_cache=False), include_files=True)
    doc["image"].pop("reference")
    return doc


@pytest.fixture(scope="module")
def want():
    return report(DEMO)


@pytest.fixture(autouse=True)
def plain_access():
    registry_mod.configure(Access())
    yield
    registry_mod.configure(Access())


@pytest.fixture(scope="module")
def podman_image():
    require_tools("podman", "skopeo")
    name = f"localhost/slimscope-test-{uuid.uuid4().hex[:8]}:1"
    subprocess.run(["skopeo", "copy", "--insecure-policy", f"docker-archive:{DEMO}",
                    f"containers-storage:{name}"], check=True, capture_output=True)
    yield name
    subprocess.run(["podman", "rmi", name], capture_output=True)


def test_podman_equals_the_archive(podman_image, want):
    assert report(f"podman:{podman_image}") == want


def test_a_bare_name_goes_to_podman_when_no_docker_engine_answers(podman_image, want,
                                                                 monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert report(podman_image) == want
    # and with no such image in Podman either, the engine's answer is the one line
    with pytest.raises(BadInput, match="no Docker engine answers"):
        analyze("localhost/slimscope-nope:1", use_cache=False)


def test_podman_unknown_image():
    require_tools("podman")
    with pytest.raises(BadInput, match=r"^no such image in podman: localhost/slimscope-nope:1$"):
        analyze("podman:localhost/slimscope-nope:1")


@pytest.fixture(scope="module")
def containerd(tmp_path_factory):
    require_tools("containerd", "ctr")
    d = tmp_path_factory.mktemp("containerd")
    sock = str(d / "containerd.sock")
    cfg = d / "config.toml"
    cfg.write_text(f'version = 2\nroot = "{d}/root"\nstate = "{d}/state"\n'
                   'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                   f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n')
    log = open(d / "containerd.log", "wb")
    proc = subprocess.Popen(["containerd", "--config", str(cfg)], stdout=log, stderr=log)
    old = os.environ.get("CONTAINERD_ADDRESS")
    os.environ["CONTAINERD_ADDRESS"] = sock
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["ctr", "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"containerd did not start: {(d / 'containerd.log').read_text()[-600:]}")
            time.sleep(0.2)
        subprocess.run(["ctr", "-n", "slimtest", "images", "import", "--no-unpack", DEMO],
                       check=True, capture_output=True)
        yield sock
    finally:
        if old is None:
            os.environ.pop("CONTAINERD_ADDRESS", None)
        else:
            os.environ["CONTAINERD_ADDRESS"] = old
        proc.terminate()
        proc.wait(20)
        log.close()


def test_containerd_with_a_namespace(containerd, want):
    registry_mod.configure(Access(namespace="slimtest"))
    # a short name as containerd qualifies it: docker.io/slimscope-sample/demo:latest
    assert report("containerd:slimscope-sample/demo") == want
    assert report("containerd:docker.io/slimscope-sample/demo:latest") == want


def test_containerd_wrong_namespace(containerd):
    registry_mod.configure(Access(namespace="elsewhere"))
    with pytest.raises(BadInput, match=r"^no such image in containerd in namespace elsewhere: "
                                       r"docker.io/slimscope-sample/demo:latest$"):
        analyze("containerd:slimscope-sample/demo", use_cache=False)


def test_containerd_cli_namespace(containerd, tmp_path):
    import sys
    env = dict(os.environ, PYTHONPATH=ROOT, SLIMSCOPE_NO_CACHE="1")
    r = subprocess.run([sys.executable, "-m", "slimscope", "analyze", "--format", "json",
                        "--namespace", "slimtest", "containerd:slimscope-sample/demo"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    env["CONTAINERD_NAMESPACE"] = "slimtest"
    r = subprocess.run([sys.executable, "-m", "slimscope", "analyze",
                        "containerd:slimscope-sample/demo"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
