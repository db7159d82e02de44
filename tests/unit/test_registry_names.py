"""How docker://, podman: and containerd: names are read, and where registry
credentials are looked for: no registry needed."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from slimscope.errors import BadInput
from slimscope.image.exported import CONTAINERD, PODMAN, ExportedSource, containerd_name
from slimscope.image.reference import REGISTRY, Reference, open_source, parse_reference
from slimscope.image.registry import RegistryRef, RegistrySource, parse_registry_ref
from slimscope.image.registry_auth import Access, find_credentials, parse_challenge

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("rest, want", [
    ("127.0.0.1:5000/demo:1", RegistryRef("127.0.0.1:5000", "demo", "1")),
    ("localhost/team/app", RegistryRef("localhost", "team/app", "latest")),
    ("reg.example.com/a/b/c:v2.1", RegistryRef("reg.example.com", "a/b/c", "v2.1")),
    (f"reg.example.com:443/app@{DIGEST}", RegistryRef("reg.example.com:443", "app", DIGEST)),
    ("alpine", RegistryRef("docker.io", "library/alpine", "latest")),
    ("bitnami/redis:7", RegistryRef("docker.io", "bitnami/redis", "7")),
])
def test_registry_names(rest, want):
    assert parse_registry_ref(rest) == want
    assert parse_reference("docker://" + rest) == Reference(REGISTRY, rest, False)


@pytest.mark.parametrize("rest, message", [
    ("", "not a registry reference"),
    ("reg.example.com/App:1", "is not a repository name"),
    ("reg.example.com/app@sha256:xyz", "malformed digest"),
    ("reg.example.com//app", "is not a repository name"),
])
def test_bad_registry_names(rest, message):
    with pytest.raises(BadInput, match=message):
        open_source("docker://" + rest)


def test_the_name_a_source_gives():
    src = open_source("docker://127.0.0.1:5000/demo@" + DIGEST)
    assert isinstance(src, RegistrySource) and src.where == f"docker://127.0.0.1:5000/demo@{DIGEST}"
    assert not src.in_engine and src.local_path is None and src.archive_path is None


def test_podman_and_containerd_names():
    p = open_source("podman:localhost/app:1")
    assert isinstance(p, ExportedSource) and p.tool == PODMAN and p.name == "localhost/app:1"
    c = open_source("containerd:app")
    assert isinstance(c, ExportedSource) and c.tool == CONTAINERD
    assert c.name == "docker.io/library/app:latest"
    assert containerd_name("ghcr.io/o/app:2") == "ghcr.io/o/app:2"
    assert containerd_name(f"app@{DIGEST}") == f"docker.io/library/app@{DIGEST}"


def test_challenges():
    c = parse_challenge('Bearer realm="https://auth.example.com/token",service="reg",'
                        'scope="repository:team/app:pull,push"')
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.example.com/token", "service": "reg",
                        "scope": "repository:team/app:pull,push"}
    assert parse_challenge('Basic realm="x"').scheme == "basic"
    assert parse_challenge("") is None


def _auth(user, pw):
    return base64.b64encode(f"{user}:{pw}".encode()).decode()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    (tmp_path / "docker").mkdir()
    return tmp_path


def test_credentials_in_order(clean_env, monkeypatch):
    cfg = clean_env / "docker" / "config.json"
    cfg.write_text(json.dumps({"auths": {"https://reg.example.com": {"auth": _auth("d", "dp")}}}))
    a = Access()
    got = find_credentials(a, "reg.example.com")
    assert (got.username, got.password) == ("d", "dp") and a.tried == [f"docker config.json {cfg}"]
    assert not find_credentials(Access(), "other.example.com").present
    # --creds wins over everything
    got = find_credentials(Access(creds="c:cp"), "reg.example.com")
    assert (got.username, got.password, got.source) == ("c", "cp", "--creds")
    # an auth file named by REGISTRY_AUTH_FILE (or --authfile) is the only one read
    auth = clean_env / "auth.json"
    auth.write_text(json.dumps({"auths": {"reg.example.com": {"auth": _auth("r", "rp")}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    assert find_credentials(Access(), "reg.example.com").username == "r"
    assert not find_credentials(Access(), "nowhere.example.com").present
    assert find_credentials(Access(authfile=str(cfg)), "reg.example.com").username == "d"
    with pytest.raises(BadInput, match="no such auth file"):
        find_credentials(Access(authfile=str(clean_env / "missing.json")), "reg.example.com")


def test_credential_helpers(clean_env, monkeypatch):
    bindir = clean_env / "bin"
    bindir.mkdir()
    for name, user in (("store", "from-store"), ("helper", "from-helper")):
        prog = bindir / f"docker-credential-{name}"
        prog.write_text(f"#!{sys.executable}\nimport json, sys\nhost = sys.stdin.read()\n"
                        "if host != 'reg.example.com':\n"
                        "    print('credentials not found in native keychain'); sys.exit(1)\n"
                        f"print(json.dumps({{'Username': {user!r}, 'Secret': 'pw'}}))\n")
        prog.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    cfg = clean_env / "docker" / "config.json"
    cfg.write_text(json.dumps({"credsStore": "store"}))
    assert find_credentials(Access(), "reg.example.com").username == "from-store"
    assert not find_credentials(Access(), "other.example.com").present
    cfg.write_text(json.dumps({"credsStore": "store", "credHelpers": {"reg.example.com": "helper"}}))
    assert find_credentials(Access(), "reg.example.com").username == "from-helper"
    cfg.write_text(json.dumps({"credsStore": "absent"}))
    with pytest.raises(BadInput, match="docker-credential-absent is not installed"):
        find_credentials(Access(), "reg.example.com")
