"""A real registry for the tests: Debian's `docker-registry` (the CNCF distribution
registry) run on a free loopback port with its storage in a temporary directory,
plain, with TLS, with htpasswd basic auth, or behind a token server.

What it served is read back from its own access log, so tests count the bytes
that crossed the wire instead of assuming them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Optional

import pytest

from tests.support.engine import in_ci

BINARY = "docker-registry"
APT_PACKAGES = "docker-registry skopeo apache2-utils openssl podman containerd"


def require_registry() -> None:
    """Skip locally, fail under CI=true, when the registry or skopeo is missing."""
    require_tools(BINARY, "skopeo")


def require_tools(*binaries: str) -> None:
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        msg = f"{' and '.join(missing)} not installed (apt-get install {APT_PACKAGES})"
        if in_ci():
            pytest.fail(msg + " (CI=true: the registry tests are required)", pytrace=False)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    method: str
    uri: str
    status: int
    written: int


_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


class LocalRegistry:
    def __init__(self, root: str, tls: Optional[tuple[str, str]] = None,
                 htpasswd: Optional[str] = None, token: Optional[dict] = None):
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = os.path.join(root, "registry.log")
        os.makedirs(os.path.join(root, "data"), exist_ok=True)
        lines = ["version: 0.1", "log:", "  level: info", "  formatter: text",
                 "storage:", "  filesystem:", f"    rootdirectory: {root}/data",
                 "  delete:", "    enabled: true",
                 "http:", f"  addr: {self.host}"]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
        if htpasswd:
            lines += ["auth:", "  htpasswd:", "    realm: slimscope-test", f"    path: {htpasswd}"]
        if token:
            lines += ["auth:", "  token:"] + [f"    {k}: {v}" for k, v in token.items()]
        self.config = os.path.join(root, "config.yml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> LocalRegistry:
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BINARY, "serve", self.config], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {open(self.log_path).read()[-800:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start listening within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def served(self) -> list[Served]:
        """Every response the registry completed so far, from its log."""
        out = []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                if "response completed" not in line:
                    continue
                fields = {k: v.strip('"') for k, v in _FIELD.findall(line)}
                out.append(Served(fields.get("http.request.method", ""),
                                  fields.get("http.request.uri", ""),
                                  int(fields.get("http.response.status", 0)),
                                  int(fields.get("http.response.written", 0))))
        return out

    def mark(self) -> int:
        """How many responses are logged now: `served_since(mark)` counts what follows."""
        time.sleep(0.2)  # the registry logs a response after sending it
        return len(self.served())

    def served_since(self, mark: int) -> list[Served]:
        time.sleep(0.2)
        return self.served()[mark:]

    def push(self, source: str, name: str, *args: str) -> str:
        """skopeo copy SOURCE docker://HOST/NAME; returns the docker:// name."""
        dest = f"docker://{self.host}/{name}"
        cmd = ["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", *args, source, dest]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
        return dest

    def manifest_digest(self, name: str, *args: str) -> str:
        r = subprocess.run(["skopeo", "inspect", "--tls-verify=false", *args, "--raw",
                            f"docker://{self.host}/{name}"], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        import hashlib
        return "sha256:" + hashlib.sha256(r.stdout).hexdigest()


def make_ca_and_cert(directory: str) -> tuple[str, str, str]:
    """A CA and a certificate it signed for 127.0.0.1: (ca.crt, server.crt, server.key)."""
    # the CA alone in its directory: a --cert-dir reads every *.key there as a client key
    os.makedirs(os.path.join(directory, "cas"))
    ca_key, ca_crt = os.path.join(directory, "ca.key"), os.path.join(directory, "cas", "ca.crt")
    key, csr, crt = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
        "-days", "2", "-subj", "/CN=slimscope test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def write_htpasswd(path: str, user: str, password: str) -> str:
    subprocess.run(["htpasswd", "-Bbc", path, user, password], check=True, capture_output=True)
    return path


def auth_json(path: str, host: str, user: str, password: str) -> str:
    import base64
    with open(path, "w") as f:
        json.dump({"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode())
                                    .decode()}}}, f)
    return path


class TokenServer:
    """A bearer-token server as Docker Hub runs one: GET /token?service=&scope= with
    basic auth answers a JWT (RS256, signed by a self-signed key the registry trusts
    through `rootcertbundle`, the certificate sent in the header's x5c)."""

    def __init__(self, directory: str, user: str, password: str):
        import base64
        import datetime
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slimscope token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.bundle = os.path.join(directory, "token-signer.pem")
        with open(self.bundle, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.service, self.issuer = "slimscope-registry", "slimscope-token-issuer"
        self.requests: list[dict] = []
        want_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        server = self

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        def token(scopes: list[str]) -> str:
            access = []
            for scope in scopes:
                kind, _, rest = scope.partition(":")
                repo, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": repo, "actions": actions.split(",")})
            t = int(time.time())
            head = b64(json.dumps({"alg": "RS256", "typ": "JWT", "x5c": [der]}).encode())
            body = b64(json.dumps({"iss": server.issuer, "sub": user, "aud": server.service,
                                   "exp": t + 600, "nbf": t - 60, "iat": t,
                                   "jti": os.urandom(8).hex(), "access": access}).encode())
            sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
            return f"{head}.{body}.{b64(sig)}"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                from urllib.parse import parse_qs, urlparse
                q = parse_qs(urlparse(self.path).query)
                server.requests.append({"query": q, "auth": self.headers.get("Authorization")})
                if self.headers.get("Authorization") != want_auth:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": token(q.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def registry_config(self) -> dict:
        return {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                "rootcertbundle": self.bundle}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class DroppingProxy:
    """A TCP proxy to a registry that cuts one connection once, after `after` bytes
    have gone to the client: a connection dropped in the middle of a blob."""

    def __init__(self, target_port: int, after: int):
        import threading
        self.target_port, self.after = target_port, after
        self.dropped = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, to_client: bool) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if to_client:
                    with self._lock:
                        cut = not self.dropped and sent + len(data) > self.after
                        if cut:
                            self.dropped += 1
                    if cut:
                        dst.sendall(data[:self.after - sent])
                        break
                    sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self) -> None:
        self.sock.close()


class FlakyProxy:
    """An HTTP proxy to a registry that answers the first request for each blob with
    `status` (429 or 503) before letting the next one through."""

    def __init__(self, target_port: int, status: int, always: bool = False):
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.refused: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self, method: str) -> None:
                if "/blobs/" in self.path and (always or self.path not in proxy.refused):
                    proxy.refused.append(self.path)
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(method, self.path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)
                conn.close()

            def do_GET(self):  # noqa: N802
                self._forward("GET")

            def do_HEAD(self):  # noqa: N802
                self._forward("HEAD")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
