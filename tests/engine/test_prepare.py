"""What makes a cold run quicker must not change what it tests: the apt cache
fetches each file once and answers for the mirror only, images built through it
carry nothing of it, the background builds follow the selected tests, and their
progress lines reach the terminal from the main thread."""

from __future__ import annotations

import threading
import types
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import aptcache, images, prewarm, progress


class _Mirror:
    """A loopback stand-in for deb.debian.org that counts what it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                mirror.asked.append(self.path)
                body = b"Package: hello\n" if self.path.endswith("/Packages") else b"no\n"
                self.send_response(200 if body != b"no\n" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.netloc = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def mirror():
    m = _Mirror()
    yield m
    m.close()


def test_each_file_is_fetched_once_and_a_miss_is_not_kept(mirror):
    store = aptcache._Store()
    url = f"http://{mirror.netloc}/debian/dists/bookworm/main/binary-amd64/Packages"
    got: list = []
    askers = [threading.Thread(target=lambda: got.append(store.get(url))) for _ in range(4)]
    for t in askers:
        t.start()
    for t in askers:
        t.join()
    assert [g[0] for g in got] == [200] * 4
    assert {g[1].read_bytes() for g in got} == {b"Package: hello\n"}
    assert mirror.asked == ["/debian/dists/bookworm/main/binary-amd64/Packages"]
    missing = f"http://{mirror.netloc}/debian/dists/bookworm/InRelease.gpg"
    assert store.get(missing)[0] == store.get(missing)[0] == 404
    assert mirror.asked.count("/debian/dists/bookworm/InRelease.gpg") == 2


def test_the_cache_answers_for_its_mirror_only(mirror):
    server = aptcache._Server(("127.0.0.1", 0), aptcache._Handler)
    server.store, server.mirror_host = aptcache._Store(), "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        def get(path, host):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as exc:
                return exc.code, b""

        packages = "/debian/dists/bookworm/main/binary-amd64/Packages"
        assert get(packages, mirror.netloc) == (200, b"Package: hello\n")
        assert get(packages, mirror.netloc) == (200, b"Package: hello\n")
        assert mirror.asked == [packages]
        assert get(packages, "example.org")[0] == 404
        assert get(aptcache.PROBE, "anything") == (200, b"ok\n")
    finally:
        aptcache._close(server)


@pytest.mark.engine
def test_an_image_built_through_the_cache_carries_nothing_of_it(engine):
    """History as without it (an http_proxy build argument wrote '|0 ' before
    every RUN), no proxy in the config."""
    tag = images.fixture_image("apt-libc-dev")
    runs = [h["CreatedBy"] for h in engine.api.history(tag) if "apt-get" in h["CreatedBy"]]
    assert runs == ["/bin/sh -c apt-get update && apt-get install -y --no-install-recommends "
                    "libc6-dev"], runs
    env = engine.api.inspect_image(tag)["Config"].get("Env") or []
    assert not [e for e in env if "proxy" in e.lower()]


def _item(module):
    return types.SimpleNamespace(module=module)


def test_background_builds_follow_the_selected_tests():
    calls: list = []
    a = types.ModuleType("a")
    a.PREWARM = [("x", lambda: calls.append("x")), ("y", lambda: calls.append("y"))]  # type: ignore[attr-defined]
    b = types.ModuleType("b")
    b.PREWARM = [("y", lambda: calls.append("y again")), ("z", lambda: calls.append("z"))]  # type: ignore[attr-defined]
    plain = types.ModuleType("plain")
    items = [_item(a), _item(a), _item(plain), _item(b)]
    assert [tag for tag, _ in prewarm.wanted(items)] == ["x", "y", "z"]
    for _, build in prewarm.wanted(items):
        build()
    assert calls == ["x", "y", "z"]
    assert prewarm.wanted([_item(plain)]) == []


def test_a_line_from_another_thread_waits_for_the_main_thread(capsys, monkeypatch):
    monkeypatch.setattr(progress, "_config", None)   # plain stderr, as outside pytest
    t = threading.Thread(target=progress.announce, args=("built x in 1 s",))
    t.start()
    t.join()
    assert capsys.readouterr().err == ""
    progress.flush()
    assert capsys.readouterr().err == "[slimscope tests] built x in 1 s\n"
