"""Who we are to a registry, found as the Docker CLI and skopeo find it.

Credentials come from the first source that has them, in this order: `--creds
USER:PASS`, `--authfile` / REGISTRY_AUTH_FILE (the containers auth.json format),
then Docker's config.json (`credHelpers`, `credsStore` through a
`docker-credential-NAME` helper, `auths`). Every source tried is remembered, so an
"unauthenticated" error can say what was offered.

A registry answers 401 with a challenge: `Basic` wants the credentials on every
request, `Bearer realm=…,service=…,scope=…` wants a token fetched from the realm
(with the credentials, if any) and sent instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from slimscope.errors import BadInput

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
                   "registry-1.docker.io")


@dataclass
class Credentials:
    username: str = ""
    password: str = ""
    token: str = ""        # an identity token (Docker's `identitytoken`), exchanged at the realm
    source: str = ""       # how messages name where they came from

    @property
    def present(self) -> bool:
        return bool(self.username or self.token)


@dataclass
class Access:
    """How to reach registries: TLS, a CA bundle, and where credentials are."""

    tls_verify: bool = True
    ca_file: Optional[str] = None     # a PEM bundle of CAs to trust
    cert_dir: Optional[str] = None    # skopeo's --cert-dir: *.crt CAs (and client.cert/.key)
    authfile: Optional[str] = None
    creds: Optional[str] = None       # USER[:PASS]
    namespace: Optional[str] = None   # containerd's namespace (containerd: sources only)
    tried: list[str] = field(default_factory=list)


def _config_paths(access: Access) -> list[tuple[str, str]]:
    paths: list[tuple[str, str]] = []
    authfile = access.authfile or os.environ.get("REGISTRY_AUTH_FILE")
    if authfile:
        paths.append((authfile, "--authfile" if access.authfile else "REGISTRY_AUTH_FILE"))
        return paths  # as skopeo: a named auth file is the only one read
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        paths.append((os.path.join(runtime, "containers", "auth.json"), "containers auth.json"))
    docker_dir = os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker")
    paths.append((os.path.join(docker_dir, "config.json"), "docker config.json"))
    return paths


def _read_config(path: str, named: bool) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except FileNotFoundError:
        if named:
            raise BadInput(f"no such auth file: {path}") from None
        return {}
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot read auth file {path}: {e}") from None
    return doc if isinstance(doc, dict) else {}


def _entry_for(mapping: Any, host: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in DOCKER_HUB_KEYS:
        keys += list(DOCKER_HUB_KEYS)
    for k in keys:
        if k in mapping:
            return mapping[k]
    return None


def _from_helper(helper: str, host: str, where: str) -> Optional[Credentials]:
    import subprocess  # only a config that names a helper runs one

    prog = f"docker-credential-{helper}"
    try:
        out = subprocess.run([prog, "get"], input=host.encode(), capture_output=True,
                             timeout=30, check=False)
    except FileNotFoundError:
        raise BadInput(f"{where} names credential helper {helper!r} but {prog} is not "
                       "installed") from None
    except subprocess.TimeoutExpired:
        raise BadInput(f"{prog} did not answer within 30 s") from None
    if out.returncode != 0:
        return None  # "credentials not found in native keychain": anonymous, as Docker does
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        raise BadInput(f"{prog} answered something that is not JSON") from None
    user, secret = str(doc.get("Username", "")), str(doc.get("Secret", ""))
    if user == "<token>":
        return Credentials(token=secret, source=f"{prog} ({where})")
    return Credentials(user, secret, source=f"{prog} ({where})")


def _from_auths_entry(entry: Any, source: str) -> Optional[Credentials]:
    if not isinstance(entry, dict):
        return None
    if entry.get("identitytoken"):
        return Credentials(token=str(entry["identitytoken"]), source=source)
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise BadInput(f"{source}: the auth entry is not base64 USER:PASS") from None
        return Credentials(user, password, source=source)
    if entry.get("username"):
        return Credentials(str(entry["username"]), str(entry.get("password", "")), source=source)
    return None


def find_credentials(access: Access, host: str) -> Credentials:
    """The credentials for host, or empty ones (anonymous); records what was tried."""
    if access.creds is not None:
        user, _, password = access.creds.partition(":")
        access.tried.append("--creds")
        return Credentials(user, password, source="--creds")
    for path, label in _config_paths(access):
        named = label != "docker config.json" and label != "containers auth.json"
        doc = _read_config(path, named)
        if not doc:
            if named:
                access.tried.append(f"{label} {path}")
            continue
        where = f"{label} {path}"
        access.tried.append(where)
        helper = _entry_for(doc.get("credHelpers"), host)
        if isinstance(helper, str) and helper:
            got = _from_helper(helper, host, where)
            if got is not None:
                return got
        entry = _from_auths_entry(_entry_for(doc.get("auths"), host), where)
        if entry is not None:
            return entry
        store = doc.get("credsStore")
        if isinstance(store, str) and store:
            got = _from_helper(store, host, where)
            if got is not None:
                return got
    return Credentials(source="no credentials")


_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass
class Challenge:
    scheme: str                      # "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str) -> Optional[Challenge]:
    """The first challenge of a WWW-Authenticate header, or None when there is none."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
              for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def basic_header(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


# The process-wide settings live beside Access, not in registry.py, so that every
# command can set them without importing the HTTP client (requests is ~0.1 s of start-up).
_access = Access()


def configure(access: Access) -> None:
    """Set how registries are reached for this process (the CLI's --tls-verify, --creds…).

    A process-wide setting rather than an argument: every command reaches sources
    through open_source by name, some from worker threads (the TUI loads in one)."""
    global _access
    _access = access


def current_access() -> Access:
    """A fresh copy of the settings, with its own record of credentials tried."""
    return replace(_access, tried=[])
