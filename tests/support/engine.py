"""The Docker engine as the tests reach it: one connection, `require_engine`
for tests that need it, the names test images get, the inputs label that lets a
re-run reuse an image, per-tag build locks, and the ground truth (`docker
export` of a created container, see docs/DESIGN.md, "Ground truth").

Names: every image the tests make is called ``{PREFIX}/...`` where PREFIX is
``$SLIMSCOPE_TEST_PREFIX`` (default ``slimscope-test``), so a run can be kept
apart from another one sharing the engine (a cold measurement uses a prefix of
its own and rebuilds everything), and ``RUN_ID`` is unique to this test process
for images a test must be able to tell apart from every other image.

Slow inputs (the debootstrap tarball) and the locks live under
``$SLIMSCOPE_TEST_CACHE`` (default ``~/.cache/slimscope-tests``), never in git.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from slimscope.core import snapshot as _snapshot
from slimscope.index.streams import IterStream
from tests.support import progress

REPO_ROOT = Path(__file__).resolve().parents[2]

PREFIX = os.environ.get("SLIMSCOPE_TEST_PREFIX", "").strip() or "slimscope-test"
RUN_ID = uuid.uuid4().hex[:12]
INPUTS_LABEL = "org.slimscope.test.inputs"

# Bump to force every image made by tests/support to be rebuilt.
RECIPE_VERSION = "1"


def named(name: str) -> str:
    """``name`` (``repo:tag``) under this run's prefix."""
    return f"{PREFIX}/{name}"


def cache_dir() -> Path:
    """Where slow-to-make inputs (the debootstrap tarball) and locks live."""
    d = Path(os.environ.get("SLIMSCOPE_TEST_CACHE") or Path.home() / ".cache" / "slimscope-tests")
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process using the same cache dir."""
    locks = cache_dir() / "locks"
    locks.mkdir(exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    with open(locks / f"{safe}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Held by another process or by the prewarm thread: say so, and
            # keep that thread's lines coming while this one waits.
            progress.announce(f"waiting for {name}: another build of it is under way")
            while True:
                progress.flush()
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- #
# The engine
# --------------------------------------------------------------------------- #

# One client per thread: tests/support/prewarm.py builds images from a thread of
# its own while the tests use theirs, and a client's HTTP session is not shared.
_clients = threading.local()
_client_error: str | None = None
_client_failed_at = 0.0


def engine_client():
    """A connected ``docker.DockerClient``, or None when no engine answers.

    The API version is negotiated ("auto"): Debian's engine 20.10 speaks 1.41,
    older than the SDK's default.
    """
    global _client_error, _client_failed_at
    client = getattr(_clients, "client", None)
    if client is not None:
        try:
            client.ping()
            return client
        except Exception:  # engine went away; try afresh
            _clients.client = None
    if _client_failed_at and time.monotonic() - _client_failed_at < 30:
        return None  # do not make every test wait for the same dead engine
    try:
        import docker  # noqa: PLC0415

        # a short timeout for the probe; builds and exports get a long one
        client = docker.from_env(version="auto", timeout=15)
        client.ping()
        client.api.timeout = 900
    except Exception as exc:  # DockerException, ConnectionError, ImportError ...
        _client_error = f"{type(exc).__name__}: {exc}".strip()
        _client_failed_at = time.monotonic()
        return None
    _clients.client, _client_error, _client_failed_at = client, None, 0.0
    return client


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_engine():
    """The engine client, or skip the test (fail it under CI=true)."""
    import pytest  # noqa: PLC0415

    client = engine_client()
    if client is None:
        msg = f"no Docker engine: {_client_error or 'unknown error'}"
        if in_ci():
            pytest.fail(msg + " (CI=true: the engine is required)", pytrace=False)
        pytest.skip(msg)
    return client


def _need_client():
    client = engine_client()
    if client is None:
        raise RuntimeError(f"no Docker engine: {_client_error}")
    return client


def _image_label(client, tag: str, key: str = INPUTS_LABEL) -> str | None:
    """The label of image `tag`, or None when there is no such image."""
    import docker  # noqa: PLC0415

    try:
        attrs = client.api.inspect_image(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    return labels.get(key, "")


def image_id(ref: str) -> str:
    return _need_client().api.inspect_image(ref)["Id"]


def _hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _import(client, src: Path, tag: str, changes: list[str]) -> None:
    old = _image_id_or_none(client, tag)
    repo, _, t = tag.rpartition(":")
    client.api.import_image_from_file(str(src), repository=repo, tag=t, changes=changes)
    _drop_replaced(client, old, tag)


def _image_id_or_none(client, ref: str) -> str | None:
    try:
        return client.api.inspect_image(ref)["Id"]
    except Exception:
        return None


def _drop_replaced(client, old_id: str | None, tag: str) -> None:
    """Remove the image `tag` pointed at before a rebuild, so that re-runs
    with changed inputs do not pile up dangling images. Best effort: an image
    still used by a container or a child image stays."""
    if old_id and old_id != _image_id_or_none(client, tag):
        with contextlib.suppress(Exception):
            client.api.remove_image(old_id)



# --------------------------------------------------------------------------- #
# Ground truth
# --------------------------------------------------------------------------- #

# The engine's HTTP bodies are read through the same adapter the analyzer uses.
_ChunkReader = IterStream


def export_snapshot(image_ref: str) -> dict:
    """What a container created from `image_ref` shows: `docker create` (never
    started) + `docker export`, read by ``slimscope.core.snapshot.from_tar`` (engine
    added paths dropped)."""
    client = _need_client()
    # A command is given so that images without CMD/ENTRYPOINT can be created;
    # the container is never started, so it never runs.
    cid = client.api.create_container(image_ref, command=["/slimscope-not-run"])["Id"]
    try:
        stream = io.BufferedReader(_ChunkReader(client.api.export(cid, chunk_size=1 << 20)),
                                   buffer_size=1 << 20)
        return _snapshot.from_tar(stream)
    finally:
        client.api.remove_container(cid, force=True)
