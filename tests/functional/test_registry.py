"""docker:// against a real registry on loopback (Debian's docker-registry), images
pushed into it with skopeo. Skipped locally when docker-registry or skopeo is
missing; failed under CI=true (.ci/run installs: see tests/support/registry.py)."""

from __future__ import annotations

import copy
import glob
import os
import subprocess
import sys

import pytest

from slimscope.core.analysis import analyze
from slimscope.core.report import to_json
from slimscope.errors import BadInput
from slimscope.image import registry_auth as registry_mod
from slimscope.image.registry_auth import Access
from tests.support.registry import (
    LocalRegistry,
    auth_json,
    make_ca_and_cert,
    require_registry,
    write_htpasswd,
)
from tests.support.synth import layer_tar, oci_layout

pytestmark = pytest.mark.registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "sample-images", "demo.tar")


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    require_registry()
    r = LocalRegistry(str(tmp_path_factory.mktemp("registry"))).start()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def plain_access():
    registry_mod.configure(Access())
    yield
    registry_mod.configure(Access())


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(d))
    monkeypatch.delenv("SLIMSCOPE_NO_CACHE", raising=False)
    return d


def report(name, **kw):
    doc = to_json(analyze(name, **kw), include_files=True)
    doc["image"].pop("reference")
    return doc


def without_blob_fields(doc):
    """What does not depend on how the layers are stored (the registry holds them gzipped)."""
    doc = copy.deepcopy(doc)
    doc["totals"].pop("compressed_bytes", None)
    for layer in doc["layers"]:
        for k in ("digest", "compressed_bytes", "media_type"):
            layer.pop(k, None)
    return doc


def test_registry_equals_the_archive_it_was_pushed_from(reg, tmp_path):
    name = reg.push(f"docker-archive:{DEMO}", "demo:1")
    got = report(name, use_cache=False)
    # skopeo gzips the layers on the way in: all but the blobs' digests and sizes agree
    # (the OCI tests below compare every field with the same blobs read from disk)
    assert without_blob_fields(got) == without_blob_fields(report(DEMO, use_cache=False))


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_oci_manifests_gzip_and_zstd(reg, tmp_path, kind):
    if kind == "gzip":  # skopeo writes the OCI manifest and gzips the layers itself
        name = reg.push(f"docker-archive:{DEMO}", "demo-oci:1", "--format", "oci")
    else:  # skopeo 1.9 reuses a gzip blob it pushed before over recompressing: push zstd ones
        layers = [[("etc/", "dir"), ("etc/os-release", "file", b"ID=synth\n")],
                  [("app/big.bin", "file", os.urandom(100_000)), ("app/l", "symlink", "big.bin")],
                  [("app/.wh.big.bin", "whiteout")]]
        d = oci_layout(str(tmp_path / "zstd"), layers, compression="zstd")
        name = reg.push(f"oci:{d}:latest", "demo-zstd:1")
    repo = name.split("/", 3)[3].rsplit(":", 1)[0]
    by_digest = f"docker://{reg.host}/{repo}@{reg.manifest_digest(repo + ':1')}"
    oci_dir = str(tmp_path / "pulled")
    subprocess.run(["skopeo", "copy", "--insecure-policy", "--src-tls-verify=false", name,
                    f"oci:{oci_dir}:x"], check=True, capture_output=True)
    want = report(oci_dir, use_cache=False)
    kinds = {l.media_type for l in analyze(name, use_cache=False).image.layers}
    assert kinds == {f"application/vnd.oci.image.layer.v1.tar+{kind}"}
    assert report(name, use_cache=False) == want
    assert report(by_digest, use_cache=False) == want


def _pushed_pair(reg, tmp_path):
    """Two images sharing two big base layers, differing in their top layer."""
    base = [[("big1.bin", "file", os.urandom(300_000))],
            [("big2.bin", "file", os.urandom(200_000))]]
    tops = []
    for n in ("a", "b"):
        top = layer_tar([(f"top-{n}.txt", "file", os.urandom(20_000))])
        d = oci_layout(str(tmp_path / f"img-{n}"), [*base, top])
        tops.append(reg.push(f"oci:{d}:latest", f"pair-{n}:1"))
    return tops


def test_a_cached_base_is_not_downloaded(reg, tmp_path, cache_dir):
    first, second = _pushed_pair(reg, tmp_path)
    mark = reg.mark()
    analyze(first)
    cold = [s for s in reg.served_since(mark) if "/blobs/" in s.uri and s.method == "GET"]
    assert len(cold) == 4  # config + three layers
    mark = reg.mark()
    warm = analyze(second)
    served = reg.served_since(mark)
    blobs = [s for s in served if "/blobs/" in s.uri and s.method == "GET"]
    manifests = [s for s in served if "/manifests/" in s.uri]
    top = warm.image.layers[-1]
    config = warm.image.id
    assert sorted(s.uri.rsplit("/", 1)[1] for s in blobs) == sorted([config, top.digest])
    assert len(manifests) == 1
    layer_bytes = sum(s.written for s in blobs if s.uri.endswith(top.digest))
    assert layer_bytes == top.stored_bytes
    total = sum(s.written for s in served)
    assert total < 40_000 < sum(l.stored_bytes for l in warm.image.layers)
    # the result is the one the cold read gives
    assert to_json(warm)["layers"] == to_json(analyze(second, use_cache=False))["layers"]


def test_blobs_needed_together_are_downloaded_once_each(reg, tmp_path, cache_dir):
    first, _ = _pushed_pair(reg, tmp_path)
    mark = reg.mark()
    analyze(first, use_cache=False)
    blobs = [s.uri for s in reg.served_since(mark) if "/blobs/" in s.uri]
    assert len(blobs) == len(set(blobs)) == 4


def test_multi_platform_index(reg, tmp_path):
    d = oci_layout(str(tmp_path / "multi"),
                   [[("etc/arch", "file", b"same")], [("x", "file", b"y" * 5000)]],
                   platforms=["linux/amd64", "linux/arm64"])
    name = reg.push(f"oci:{d}:latest", "multi:1", "--all")
    arm = analyze(name, platform="linux/arm64", use_cache=False)
    assert arm.image.architecture == "arm64"
    assert analyze(name, platform="linux/amd64", use_cache=False).image.architecture == "amd64"
    with pytest.raises(BadInput, match=r"no manifest for platform linux/s390x; it has: "
                                       r"linux/amd64, linux/arm64"):
        analyze(name, platform="linux/s390x", use_cache=False)


def test_one_line_errors(reg, tmp_path):
    reg.push(f"docker-archive:{DEMO}", "demo:1")
    with pytest.raises(BadInput, match=r"^manifest unknown: docker://127\.0\.0\.1:\d+/demo:nope$"):
        analyze(f"docker://{reg.host}/demo:nope", use_cache=False)
    with pytest.raises(BadInput, match=r"^manifest unknown: .*/nothere:1$"):
        analyze(f"docker://{reg.host}/nothere:1", use_cache=False)
    from tests.support.registry import free_port
    port = free_port()
    with pytest.raises(BadInput, match=r"^registry 127\.0\.0\.1:\d+ refused the connection$"):
        analyze(f"docker://127.0.0.1:{port}/demo:1", use_cache=False)


def test_a_corrupt_blob_is_refused(tmp_path):
    require_registry()
    r = LocalRegistry(str(tmp_path / "reg")).start()
    try:
        name = r.push(f"docker-archive:{DEMO}", "demo:1")
        image = analyze(name, use_cache=False).image
        big = max(image.layers, key=lambda l: l.stored_bytes)
        data = glob.glob(os.path.join(r.root, "data", "**", big.digest.split(":")[1], "data"),
                         recursive=True)[0]
        with open(data, "r+b") as f:
            f.seek(big.stored_bytes // 2)
            byte = f.read(1)
            f.seek(big.stored_bytes // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
        with pytest.raises(BadInput, match=r"does not match its sha256 digest|corrupt"):
            analyze(name, use_cache=False)
    finally:
        r.stop()


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    """A registry with TLS (a CA made here) and htpasswd basic auth."""
    require_registry()
    root = str(tmp_path_factory.mktemp("secure"))
    ca, crt, key = make_ca_and_cert(root)
    htpasswd = write_htpasswd(os.path.join(root, "htpasswd"), "tester", "s3cret")
    r = LocalRegistry(root, tls=(crt, key), htpasswd=htpasswd).start()
    r.ca = ca
    subprocess.run(["skopeo", "copy", "--insecure-policy", "--dest-cert-dir", os.path.dirname(ca),
                    "--dest-creds", "tester:s3cret", f"docker-archive:{DEMO}",
                    f"docker://{r.host}/demo:1"], check=True, capture_output=True)
    yield r
    r.stop()


def test_tls_unknown_ca_names_the_option(secure):
    with pytest.raises(BadInput, match=r"TLS failed .*--cert-dir.*--tls-verify=false"):
        analyze(f"docker://{secure.host}/demo:1", use_cache=False)


def test_tls_with_ca_and_basic_auth(secure, tmp_path, monkeypatch):
    name = f"docker://{secure.host}/demo:1"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nodocker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    registry_mod.configure(Access(ca_file=secure.ca))
    with pytest.raises(BadInput, match=r"unauthenticated \(credentials tried: no credentials\)"):
        analyze(name, use_cache=False)
    registry_mod.configure(Access(ca_file=secure.ca, creds="tester:wrong"))
    with pytest.raises(BadInput, match=r"unauthenticated as tester \(credentials tried: --creds\)"):
        analyze(name, use_cache=False)
    want = without_blob_fields(report(DEMO, use_cache=False))
    registry_mod.configure(Access(ca_file=secure.ca, creds="tester:s3cret"))
    assert without_blob_fields(report(name, use_cache=False)) == want
    authfile = auth_json(str(tmp_path / "auth.json"), secure.host, "tester", "s3cret")
    registry_mod.configure(Access(cert_dir=os.path.dirname(secure.ca), authfile=authfile))
    assert without_blob_fields(report(name, use_cache=False)) == want
    # Docker's own config.json, found through DOCKER_CONFIG
    os.makedirs(tmp_path / "docker")
    auth_json(str(tmp_path / "docker" / "config.json"), secure.host, "tester", "s3cret")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    registry_mod.configure(Access(ca_file=secure.ca))
    assert without_blob_fields(report(name, use_cache=False)) == want
    registry_mod.configure(Access(tls_verify=False, creds="tester:s3cret"))
    assert without_blob_fields(report(name, use_cache=False)) == want


def test_credential_helper(secure, tmp_path, monkeypatch):
    """credsStore through a docker-credential-NAME program, as Docker runs it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-slimtest"
    helper.write_text(f"#!{sys.executable}\nimport json, sys\nhost = sys.stdin.read().strip()\n"
                      f"assert sys.argv[1] == 'get' and host == {secure.host!r}, host\n"
                      "print(json.dumps({'Username': 'tester', 'Secret': 's3cret'}))\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text('{"credsStore": "slimtest"}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    registry_mod.configure(Access(ca_file=secure.ca))
    assert analyze(f"docker://{secure.host}/demo:1", use_cache=False).image.layers


def test_cli_options_reach_the_registry(secure, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, SLIMSCOPE_NO_CACHE="1",
               DOCKER_CONFIG=str(tmp_path / "none"))
    env.pop("REGISTRY_AUTH_FILE", None)
    name = f"docker://{secure.host}/demo:1"
    run = lambda *a: subprocess.run([sys.executable, "-m", "slimscope", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    bad = run("analyze", name)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--tls-verify=false" in bad.stderr
    ok = run("analyze", "--ca-file", secure.ca, "--creds", "tester:s3cret", name)
    assert ok.returncode == 0, ok.stderr
    ok = run("ci", "--tls-verify=false", "--creds", "tester:s3cret", name)
    assert ok.returncode in (0, 1), ok.stderr
    unauth = run("analyze", "--ca-file", secure.ca, name)
    assert unauth.returncode == 2 and "unauthenticated" in unauth.stderr


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory):
    """A registry behind a bearer-token server (the challenge Docker Hub sends)."""
    require_registry()
    pytest.importorskip("cryptography")
    from tests.support.registry import TokenServer
    root = str(tmp_path_factory.mktemp("token"))
    tokens = TokenServer(root, "tester", "s3cret")
    r = LocalRegistry(root, token=tokens.registry_config()).start()
    r.tokens = tokens
    subprocess.run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false",
                    "--dest-creds", "tester:s3cret", f"docker-archive:{DEMO}",
                    f"docker://{r.host}/team/demo:1"], check=True, capture_output=True)
    yield r
    r.stop()
    tokens.stop()


def test_bearer_token_challenge(token_registry, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    name = f"docker://{token_registry.host}/team/demo:1"
    with pytest.raises(BadInput, match=r"unauthenticated \(credentials tried: no credentials\)"):
        analyze(name, use_cache=False)
    token_registry.tokens.requests.clear()
    registry_mod.configure(Access(creds="tester:s3cret"))
    got = report(name, use_cache=False)
    assert without_blob_fields(got) == without_blob_fields(report(DEMO, use_cache=False))
    asked = token_registry.tokens.requests
    assert asked and all(q["query"]["scope"] == ["repository:team/demo:pull"] and
                         q["query"]["service"] == ["slimscope-registry"] for q in asked)
    assert len(asked) == 1  # one token serves the manifest, the config and every blob


def test_a_dropped_blob_download_resumes(reg, tmp_path):
    from tests.support.registry import DroppingProxy
    big = [[("big.bin", "file", os.urandom(600_000))], [("small", "file", b"s")]]
    d = oci_layout(str(tmp_path / "big"), big)
    reg.push(f"oci:{d}:latest", "dropped:1")
    want = report(f"docker://{reg.host}/dropped:1", use_cache=False)
    proxy = DroppingProxy(reg.port, after=300_000)
    try:
        mark = reg.mark()
        assert report(f"docker://{proxy.host}/dropped:1", use_cache=False) == want
        assert proxy.dropped == 1
        # the rest of the blob came by a Range request, not a second download
        served = reg.served_since(mark)
        resumed = [s for s in served if s.status == 206]
        blob = max(analyze(f"docker://{reg.host}/dropped:1", use_cache=False).image.layers,
                   key=lambda l: l.stored_bytes)
        assert [s.uri.rsplit("/", 1)[1] for s in resumed] == [blob.digest]
        assert resumed[0].written < blob.stored_bytes - 200_000
        assert len([s for s in served if s.uri.endswith(blob.digest)]) == 2
    finally:
        proxy.stop()


def test_slim_push(reg):
    env = dict(os.environ, PYTHONPATH=ROOT, SLIMSCOPE_NO_CACHE="1")
    src = reg.push(f"docker-archive:{DEMO}", "pushsrc:1")
    dest = f"docker://{reg.host}/pushed:slim"
    run = lambda *a: subprocess.run([sys.executable, "-m", "slimscope", "slim", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    first = run(src, "--push", dest)
    assert first.returncode == 0, first.stderr
    assert f"-> {dest}" in first.stdout and "/tmp/" not in first.stdout
    before, after = analyze(src, use_cache=False), analyze(dest, use_cache=False)
    assert after.wasted_bytes == 0 and len(after.image.layers) == 1
    assert after.final_bytes == before.final_bytes
    assert {p: (e.size, e.mode) for p, e in ((r.path, r) for r in after.files())} == \
        {p: (e.size, e.mode) for p, e in ((r.path, r) for r in before.files())}
    again = run(src, "--push", dest)
    assert again.returncode == 2 and again.stderr.strip().endswith("exists; pass --force to replace it")
    forced = run(src, "--push", dest, "--force")
    assert forced.returncode == 0, forced.stderr
    # the same layer again: asked for first (HEAD), not sent; only the new config goes
    assert "1 blobs sent" in forced.stdout and "1 already there" in forced.stdout
    kept = run(src, "--push", dest, "--force", "--keep-base", "--base-layers", "1")
    assert kept.returncode == 0, kept.stderr
    assert len(analyze(dest, use_cache=False).image.layers) == 2


def test_slim_downloads_each_blob_once(reg, tmp_path):
    """The layers the analysis downloads are kept (checked) for the rewrite to read
    again, not fetched a second time; the spool goes when slim ends."""
    src = reg.push(f"docker-archive:{DEMO}", "oncesrc:1")
    layers = {l.digest for l in analyze(src, use_cache=False).image.layers}
    spools = tmp_path / "tmp"
    spools.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT, SLIMSCOPE_NO_CACHE="1", TMPDIR=str(spools))
    mark = reg.mark()
    r = subprocess.run([sys.executable, "-m", "slimscope", "slim", src, "-o",
                        str(tmp_path / "slim.tar")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    got = [s.uri.rsplit("/", 1)[1] for s in reg.served_since(mark)
           if "/blobs/" in s.uri and s.method == "GET"]
    assert sorted(d for d in got if d in layers) == sorted(layers)   # each layer once
    assert list(spools.iterdir()) == []
    after = analyze(str(tmp_path / "slim.tar"), use_cache=False)
    assert after.final_bytes == analyze(src, use_cache=False).final_bytes


@pytest.mark.parametrize("status", [429, 503])
def test_busy_answers_are_retried(reg, status):
    from tests.support.registry import FlakyProxy
    name = reg.push(f"docker-archive:{DEMO}", "demo:1")
    want = report(name, use_cache=False)
    proxy = FlakyProxy(reg.port, status)
    try:
        assert report(f"docker://{proxy.host}/demo:1", use_cache=False) == want
        assert len(proxy.refused) == 8  # the config and seven layers, each refused once
    finally:
        proxy.stop()


def test_slim_push_behind_token_auth(token_registry, tmp_path):
    """The pull token does not allow a push: the upload's own challenge (scope
    pull,push) is answered with a second token."""
    env = dict(os.environ, PYTHONPATH=ROOT, SLIMSCOPE_NO_CACHE="1",
               DOCKER_CONFIG=str(tmp_path / "none"))
    env.pop("REGISTRY_AUTH_FILE", None)
    dest = f"docker://{token_registry.host}/team/slim:1"
    r = subprocess.run([sys.executable, "-m", "slimscope", "slim", "--creds", "tester:s3cret",
                        f"docker://{token_registry.host}/team/demo:1", "--push", dest],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    scopes = {s for q in token_registry.tokens.requests for s in q["query"].get("scope", [])}
    # the registry's challenge names the actions, in its own order
    assert any(sc.startswith("repository:team/slim:") and
               set(sc.rsplit(":", 1)[1].split(",")) == {"pull", "push"} for sc in scopes), scopes
    registry_mod.configure(Access(creds="tester:s3cret"))
    assert analyze(dest, use_cache=False).wasted_bytes == 0


def test_retries_are_bounded(reg):
    import time

    from tests.support.registry import FlakyProxy
    reg.push(f"docker-archive:{DEMO}", "demo:1")
    proxy = FlakyProxy(reg.port, 503, always=True)
    try:
        t = time.monotonic()
        with pytest.raises(BadInput, match=r"^docker://127\.0\.0\.1:\d+/demo: blob sha256:\w+: "
                                           r"the registry answered 503$"):
            analyze(f"docker://{proxy.host}/demo:1", use_cache=False)
        assert time.monotonic() - t < 30
        assert 2 <= len(proxy.refused) <= 6  # the config: tried, retried a few times, given up
    finally:
        proxy.stop()
