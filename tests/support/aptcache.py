"""A caching stand-in for the Debian mirror in the test builds, so each package
list and each .deb comes from the mirror once per session, not once per image: a
cold run installs the toolchain, python3 and their lists in a dozen builds (the
original images and the generated ones), each `apt-get update` alone 15 MB.

It listens on port 80 of the gateway of the engine's bridge network (an address
of this machine when the engine runs here), and `build_image` gives the build
``extra_hosts`` that resolve the mirror's host name to it; it fetches what is
asked from the real mirror and keeps it. apt checks every file against the
signed lists as always. The name is a host setting of the build containers, not
part of their config: not in the image, its history or the engine's cache key,
so an image is the same built through the cache or not. (The ``http_proxy``
build argument is not: the legacy builder then writes "|0 " before every RUN of
the history and keys its cache on it.) It is used only after a container was
seen to reach it; otherwise, or with ``SLIMSCOPE_TEST_APT_CACHE=0``, builds
download from the mirror.

Only answers 200 are kept, in a directory removed at exit, keyed by URL: within
one session a list or a pool file does not change, and nothing carries over to
the next run (a cold run stays cold).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.progress import announce

PROBE = "/slimscope-apt-cache-probe"

_lock = threading.Lock()
_hosts: dict[str, str] | None = None
_started = False


class _Store:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="slimscope-apt-cache-"))
        self.entries: dict[str, tuple[Path, str]] = {}   # url -> (body, content type)
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()
        self.names = itertools.count()

    def get(self, url: str) -> tuple[int, Path | None, str, bytes]:
        """(status, body file or None, content type, error body) for `url`."""
        with self.guard:
            lock = self.locks.setdefault(url, threading.Lock())
        with lock:  # the second asker of a URL waits for the first's download
            if url in self.entries:
                return 200, *self.entries[url], b""
            req = urllib.request.Request(url, headers={"User-Agent": "slimscope-tests apt cache"})
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    with self.guard:
                        path = self.dir / str(next(self.names))
                    with open(path, "wb") as out:
                        shutil.copyfileobj(r, out, 1 << 20)
                    ctype = r.headers.get("Content-Type", "application/octet-stream")
            except urllib.error.HTTPError as exc:   # 404 of an optional list: apt copes
                return exc.code, None, "text/plain", exc.reason.encode()
            except OSError as exc:
                return 502, None, "text/plain", str(exc).encode()
            self.entries[url] = (path, ctype)
            return 200, path, ctype, b""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive: apt pipelines its requests
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        if self.path == PROBE:
            self._send(200, "text/plain", b"ok\n")
            return
        netloc = self.headers.get("Host") or ""
        if netloc.split(":")[0] != self.server.mirror_host or not self.path.startswith("/"):
            self._send(404, "text/plain", b"not the mirror this cache stands in for\n")
            return
        status, path, ctype, error = self.server.store.get(f"http://{netloc}{self.path}")
        if path is None:
            self._send(status, ctype, error)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, self.wfile, 1 << 20)

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 (the http.server name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    store: _Store
    mirror_host: str


def extra_hosts(client) -> dict[str, str] | None:
    """``{mirror host: cache address}`` for a build (the cache starts on the first
    call), or None when builds go to the mirror themselves."""
    global _hosts, _started
    with _lock:
        if not _started:
            _started = True
            _hosts = _start(client)
        return _hosts


def _start(client) -> dict[str, str] | None:
    from tests.support.bases import debian_mirror  # noqa: PLC0415 (bases builds through images)

    if os.environ.get("SLIMSCOPE_TEST_APT_CACHE", "").strip() == "0":
        return None
    engine_host = os.environ.get("DOCKER_HOST", "")
    if engine_host and not engine_host.startswith("unix://"):
        return None   # an engine elsewhere: its containers cannot reach this machine's gateway
    mirror = urllib.parse.urlsplit(debian_mirror())
    if mirror.scheme != "http" or not mirror.hostname or mirror.port not in (None, 80):
        return None
    try:
        gateway = client.api.inspect_network("bridge")["IPAM"]["Config"][0]["Gateway"]
        server = _Server((gateway, 80), _Handler)
    except Exception:  # no bridge, not an address of this machine, port 80 taken
        return None
    server.store, server.mirror_host = _Store(), mirror.hostname
    threading.Thread(target=server.serve_forever, name="slimscope-apt-cache",
                     daemon=True).start()
    if not _reachable(client, gateway):
        _close(server)
        announce(f"apt cache: {gateway}:80 cannot be reached from a container; "
                 "builds download from the mirror")
        return None
    atexit.register(_close, server)
    announce(f"apt cache for the test builds on {gateway}:80, standing in for "
             f"{mirror.hostname}: each .deb and list is downloaded once this session")
    return {mirror.hostname: gateway}


def _reachable(client, gateway: str) -> bool:
    from tests.support.bases import busybox_base  # noqa: PLC0415

    # busybox-static's wget crashes here; its nc does the one request
    script = f"printf 'GET {PROBE} HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {gateway} 80"
    try:
        out = client.containers.run(busybox_base(), ["sh", "-c", script], remove=True)
    except Exception:
        return False
    return out.endswith(b"\r\n\r\nok\n")


def _close(server: _Server) -> None:
    with contextlib.suppress(Exception):
        server.shutdown()
    shutil.rmtree(server.store.dir, ignore_errors=True)
