"""docker:// against the ground truth: every fast engine fixture, pushed from the
engine into a real registry on loopback (Docker v2 and OCI+zstd manifests), reads
as `docker export` of a container from it, path by path."""

from __future__ import annotations

import os
import subprocess

import pytest

from slimscope.core import snapshot
from slimscope.core.analysis import analyze
from tests.support import engine, images
from tests.support.expectations import FAST, check_expectations
from tests.support.registry import LocalRegistry, require_registry

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture(scope="module")
def reg(engine, tmp_path_factory):
    require_registry()
    r = LocalRegistry(str(tmp_path_factory.mktemp("registry"))).start()
    yield r
    r.stop()


@pytest.mark.parametrize("fmt", ["v2s2", "oci-zstd"])
@pytest.mark.parametrize("name", FAST)
def test_registry_matches_docker_export(reg, name, fmt):
    tag = images.fixture_image(name)
    args = [] if fmt == "v2s2" else ["--format", "oci", "--dest-compress-format", "zstd"]
    dest = f"{name}-{fmt}:1"
    if os.environ.get("DOCKER_HOST"):  # skopeo does not read DOCKER_HOST itself
        args += ["--src-daemon-host", os.environ["DOCKER_HOST"]]
    r = subprocess.run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", *args,
                        f"docker-daemon:{tag}", f"docker://{reg.host}/{dest}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    a = analyze(f"docker://{reg.host}/{dest}", use_cache=False)
    assert snapshot.diff(engine.export_snapshot(tag), snapshot.from_analysis(a)) == []
    assert a.wasted_bytes == a.total_bytes - a.final_bytes
    check_expectations(a, images.FIXTURES[name][2])
