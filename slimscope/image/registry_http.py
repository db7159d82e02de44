"""Speaking the OCI distribution API to one repository of one registry.

requests keeps the connections (one pooled session, shared by the download
threads); urllib3's Retry answers 429/5xx and failed connections with bounded
back-off. A blob whose connection drops half-way is resumed with a Range request
from the byte it stopped at, so its hash keeps running over one stream.

Every failure becomes one line that names what to do: an unknown host, a refused
connection, a TLS failure (naming --tls-verify=false / --cert-dir / --ca-file),
an unauthenticated pull (naming the credential sources tried), an unknown manifest.
"""

from __future__ import annotations

import glob
import os
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from slimscope.errors import BadInput
from slimscope.image.registry_auth import (
    Access,
    Challenge,
    Credentials,
    basic_header,
    find_credentials,
    parse_challenge,
)
from slimscope.index.streams import CHUNK

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")
RESUMES = 5          # how often one blob download may be resumed after a dropped connection
TIMEOUT = (10, 60)   # connect, read (seconds between bytes)


def _retry() -> Retry:
    return Retry(total=5, connect=2, read=3, status=4, backoff_factor=0.3,
                 status_forcelist=(429, 500, 502, 503, 504),
                 allowed_methods=frozenset({"GET", "HEAD", "PUT", "POST", "PATCH"}),
                 respect_retry_after_header=True, raise_on_status=False)


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in LOOPBACK


class Registry:
    """One repository on one registry, with its session, scheme and credentials."""

    def __init__(self, host: str, repo: str, access: Access):
        self.host, self.repo, self.access = host, repo, access
        self.where = f"docker://{host}/{repo}"
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=_retry(), pool_maxsize=8)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = "slimscope"
        # Given with every request: requests lets REQUESTS_CA_BUNDLE override a session's.
        self.verify = self._verify()
        cert = self._client_cert()
        if cert:
            self.session.cert = cert
        self.base = ""
        self.auth_header: Optional[str] = None
        self.creds: Optional[Credentials] = None
        self._lock = threading.Lock()

    # -- connection -----------------------------------------------------------------

    def _verify(self) -> bool | str:
        if not self.access.tls_verify:
            # asked for: urllib3's warning on every request would only repeat the option
            import urllib3
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            return False
        if self.access.ca_file:
            if not os.path.isfile(self.access.ca_file):
                raise BadInput(f"no such CA file: {self.access.ca_file}")
            return self.access.ca_file
        if self.access.cert_dir:
            cas = sorted(glob.glob(os.path.join(self.access.cert_dir, "*.crt")))
            if not os.path.isdir(self.access.cert_dir):
                raise BadInput(f"no such certificate directory: {self.access.cert_dir}")
            if cas:
                return cas[0] if len(cas) == 1 else self._bundle(cas)
        return True

    def _bundle(self, cas: list[str]) -> str:
        import atexit
        import tempfile
        fd, path = tempfile.mkstemp(prefix="slimscope-ca-", suffix=".pem")
        atexit.register(_unlink, path)
        with os.fdopen(fd, "wb") as out:
            for ca in cas:
                with open(ca, "rb") as f:
                    out.write(f.read() + b"\n")
        return path

    def _client_cert(self) -> Optional[tuple[str, str]]:
        d = self.access.cert_dir
        if d and os.path.isfile(os.path.join(d, "client.cert")):
            return os.path.join(d, "client.cert"), os.path.join(d, "client.key")
        return None

    def _fail(self, e: requests.RequestException, url: str) -> BadInput:
        text = str(e)
        if isinstance(e, requests.exceptions.SSLError):
            return BadInput(f"{self.host}: TLS failed ({_short(text)}); --cert-dir DIR or "
                            "--ca-file PEM would trust its CA, --tls-verify=false would skip the check")
        if "Name or service not known" in text or "NameResolution" in text or \
                "Temporary failure in name resolution" in text or "nodename nor servname" in text:
            return BadInput(f"unknown registry host: {self.host}")
        if "Connection refused" in text or "ConnectionRefused" in text:
            return BadInput(f"registry {self.host} refused the connection")
        if isinstance(e, requests.exceptions.Timeout):
            return BadInput(f"registry {self.host} did not answer in time")
        return BadInput(f"registry {self.host}: cannot reach {url} ({_short(text)})")

    def _ping(self) -> None:
        """Choose https or http by asking /v2/, as the Docker CLI does: plain HTTP only
        for a loopback host or when --tls-verify=false allows it."""
        tls_error: Optional[BadInput] = None
        # The probe is not retried: a TLS handshake that fails fails the same way again.
        probe = requests.Session()
        probe.cert, probe.headers = self.session.cert, self.session.headers
        try:
            with probe:
                r = probe.get(f"https://{self.host}/v2/", timeout=TIMEOUT, verify=self.verify)
            r.close()
            self.base = f"https://{self.host}"
            return
        except requests.exceptions.SSLError as e:
            tls_error = self._fail(e, f"https://{self.host}/v2/")
        except requests.RequestException as e:
            if not (_is_loopback(self.host) or not self.access.tls_verify):
                raise self._fail(e, f"https://{self.host}/v2/") from None
            tls_error = self._fail(e, f"https://{self.host}/v2/")
        if not (_is_loopback(self.host) or not self.access.tls_verify):
            raise tls_error
        try:
            r = self.session.get(f"http://{self.host}/v2/", timeout=TIMEOUT)
            r.close()
        except requests.RequestException as e:
            raise self._fail(e, f"http://{self.host}/v2/") from None
        if r.status_code not in (200, 401):
            raise tls_error  # it speaks HTTPS, and TLS is what failed
        self.base = f"http://{self.host}"

    # -- requests -------------------------------------------------------------------

    def request(self, method: str, path: str, headers: Optional[dict[str, str]] = None,
                stream: bool = False, **kw: Any) -> requests.Response:
        """One request, authenticated on demand; raises BadInput on a network failure."""
        with self._lock:
            if not self.base:
                self._ping()
        url = path if path.startswith("http") else f"{self.base}{path}"
        r = self._send(method, url, headers, stream, **kw)
        if r.status_code == 401:
            challenge = parse_challenge(r.headers.get("WWW-Authenticate", ""))
            r.close()
            with self._lock:
                self._authenticate(challenge)
            r = self._send(method, url, headers, stream, **kw)
            if r.status_code in (401, 403):
                r.close()
                raise self.unauthenticated()
        if r.status_code == 403:
            r.close()
            raise self.unauthenticated()
        return r

    def _send(self, method: str, url: str, headers: Optional[dict[str, str]], stream: bool,
              **kw: Any) -> requests.Response:
        h = dict(headers or {})
        if self.auth_header:
            h["Authorization"] = self.auth_header
        try:
            return self.session.request(method, url, headers=h, stream=stream, timeout=TIMEOUT,
                                        verify=self.verify, **kw)
        except requests.RequestException as e:
            raise self._fail(e, url) from None

    def unauthenticated(self) -> BadInput:
        tried = ", ".join(self.access.tried) or "no credentials"
        who = f" as {self.creds.username}" if self.creds and self.creds.username else ""
        return BadInput(f"{self.where}: unauthenticated{who} (credentials tried: {tried}); "
                        "give --creds USER:PASS or --authfile FILE")

    def _authenticate(self, challenge: Optional[Challenge]) -> None:
        if self.creds is None:
            self.creds = find_credentials(self.access, self.host)
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise self.unauthenticated()
        if challenge.scheme == "basic":
            if not self.creds.present:
                raise self.unauthenticated()
            self.auth_header = basic_header(self.creds)
            return
        realm = challenge.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise BadInput(f"{self.where}: the registry's token realm is not a URL: {realm!r}")
        params = {"scope": challenge.params.get("scope") or f"repository:{self.repo}:pull"}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        h: dict[str, str] = {}
        if self.creds.token:
            params.update(grant_type="refresh_token", refresh_token=self.creds.token)
        elif self.creds.present:
            h["Authorization"] = basic_header(self.creds)
        try:
            r = self.session.get(realm, params=params, headers=h, timeout=TIMEOUT,
                                 verify=self.verify)
        except requests.RequestException as e:
            raise self._fail(e, realm) from None
        if r.status_code in (401, 403):
            raise self.unauthenticated()
        if r.status_code != 200:
            raise BadInput(f"{self.where}: the token server answered {r.status_code}")
        try:
            doc = r.json()
        except ValueError:
            raise BadInput(f"{self.where}: the token server answered something that is not JSON") \
                from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not token:
            raise BadInput(f"{self.where}: the token server gave no token")
        self.auth_header = f"Bearer {token}"

    # -- manifests and blobs --------------------------------------------------------

    def manifest(self, ref: str) -> tuple[bytes, str, str]:
        """(body, media type, the digest the registry says) of a manifest by tag or digest."""
        r = self.request("GET", f"/v2/{self.repo}/manifests/{ref}",
                         {"Accept": ", ".join(MANIFEST_TYPES)})
        with r:
            if r.status_code == 404:
                raise BadInput(f"manifest unknown: {self.where}{_sep(ref)}{ref}")
            if r.status_code != 200:
                raise BadInput(f"{self.where}: manifest {ref}: the registry answered "
                               f"{r.status_code}")
            body = r.content
            if len(body) > 4 << 20:
                raise BadInput(f"{self.where}: manifest {ref} is implausibly large")
            return body, r.headers.get("Content-Type", "").split(";")[0].strip(), \
                r.headers.get("Docker-Content-Digest", "")

    def blob(self, digest: str, limit: int = 64 << 20) -> bytes:
        """A small blob (a config) whole."""
        stream = self.open_blob(digest)
        try:
            data = stream.read(limit + 1)
        finally:
            stream.close()
        if len(data) > limit:
            raise BadInput(f"{self.where}: blob {digest} is implausibly large for a config")
        return data

    def open_blob(self, digest: str) -> BlobStream:
        return BlobStream(self, digest)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sep(ref: str) -> str:
    return "@" if ":" in ref else ":"


def _short(text: str) -> str:
    """The reason inside urllib3's "Max retries exceeded … (Caused by X(Y('reason')))"."""
    if not text:
        return "no detail"
    m = re.search(r"\[SSL[^\]]*\][^'\")]*|\[Errno[^\]]*\][^'\")]*", text)
    return (m.group(0) if m else text.splitlines()[0])[:200]


class BlobStream:
    """A blob's bytes as the registry serves them, resumed with Range after a drop."""

    def __init__(self, reg: Registry, digest: str):
        self.reg, self.digest, self.offset, self.resumes = reg, digest, 0, 0
        self.closed = False
        self._resp = self._open()
        self.size: Optional[int] = _int(self._resp.headers.get("Content-Length"))
        self._chunks: Iterator[bytes] = self._resp.raw.stream(CHUNK, decode_content=False)
        self._buf = b""

    def _open(self) -> requests.Response:
        headers = {"Range": f"bytes={self.offset}-"} if self.offset else {}
        r = self.reg.request("GET", f"/v2/{self.reg.repo}/blobs/{self.digest}", headers,
                             stream=True)
        if r.status_code == 404:
            r.close()
            raise BadInput(f"{self.reg.where}: blob unknown: {self.digest}")
        want = 206 if self.offset else 200
        if r.status_code != want:
            r.close()
            raise BadInput(f"{self.reg.where}: blob {self.digest}: the registry answered "
                           f"{r.status_code}")
        return r

    def read(self, size: int = -1, /) -> bytes:
        out = []
        need = size if size is not None and size >= 0 else 1 << 62
        while need > 0:
            if not self._buf:
                chunk = self._next()
                if not chunk:
                    break
                self._buf = chunk
            piece, self._buf = self._buf[:need], self._buf[need:]
            out.append(piece)
            need -= len(piece)
            self.offset += len(piece)
        return b"".join(out)

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            data = self.read(len(view))
            view[:len(data)] = data
        return len(data)

    def _next(self) -> bytes:
        while True:
            try:
                return next(self._chunks, b"")
            except (Urllib3Error, requests.RequestException, OSError) as e:
                self._resp.close()
                self.resumes += 1
                if self.resumes > RESUMES:
                    raise BadInput(f"{self.reg.where}: blob {self.digest} kept dropping "
                                   f"({_short(str(e))})") from None
                consumed = self.offset + len(self._buf)
                self.offset, self._buf = consumed, b""
                self._resp = self._open()
                self._chunks = self._resp.raw.stream(CHUNK, decode_content=False)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._resp.close()


def _int(v: Optional[str]) -> Optional[int]:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None
