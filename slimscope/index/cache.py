"""Layer indexes on disk, keyed by diff_id (and by blob digest when compressed):
images that share a base share the work."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from typing import Optional

from slimscope.index.records import LayerIndex
from slimscope.index.streams import HashingReader, Peekable, sniff
from slimscope.index.walk import Indexed


def cache_dir() -> Optional[str]:
    if os.environ.get("SLIMSCOPE_NO_CACHE"):
        return None
    base = os.environ.get("SLIMSCOPE_CACHE_DIR")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                            "slimscope")
    return os.path.join(base, "layers-v1")


class IndexCache:
    """Layer indexes on disk, keyed by diff_id (and by blob digest when compressed)."""

    def __init__(self, directory: Optional[str] = None, enabled: bool = True):
        self.directory = directory if directory is not None else cache_dir()
        self.enabled = enabled and self.directory is not None

    def _file(self, key: str) -> str:
        assert self.directory is not None  # only asked while enabled
        return os.path.join(self.directory, key.replace(":", "-") + ".idx")

    def has(self, key: str) -> bool:
        """Whether an index is stored under key (cheap: no read), to plan work by."""
        return self.enabled and bool(key) and os.path.exists(self._file(key))

    def get(self, key: str, need_hash: bool) -> Optional[LayerIndex]:
        if not self.enabled or not key:
            return None
        try:
            with open(self._file(key), "rb") as f:
                idx = LayerIndex.loads(f.read())
        except (OSError, ValueError, zlib.error, UnicodeDecodeError):
            return None
        if need_hash and not idx.hashed:
            return None
        return idx

    def put(self, keys: Iterable[str], idx: LayerIndex) -> None:
        if not self.enabled or self.directory is None:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
            blob = idx.dumps()
            for key in keys:
                if not key:
                    continue
                tmp = self._file(key) + f".{os.getpid()}.tmp"
                with open(tmp, "wb") as f:
                    f.write(blob)
                os.replace(tmp, self._file(key))
        except OSError:
            pass  # a cache that cannot be written only costs time


def is_cached(cache: Optional[IndexCache], key: str) -> bool:
    """Whether a layer needs only hashing (planning: no reason to start worker processes)."""
    return cache is not None and cache.has(key)


def cached_blob(cache: Optional[IndexCache], key: str, blob: Peekable,
                hash_contents: bool) -> Optional[Indexed]:
    """The cached index of the blob stored under `key`, or None.

    On a hit the blob is still read to its end, for its true digest and size: the
    caller checks that digest against `key` (slimscope.index.digests.check_digest),
    so a blob changed since it was cached is refused, never answered from the cache.
    """
    if cache is None or not key:
        return None
    hit = cache.get(key, hash_contents)
    if hit is None:
        return None
    kind = sniff(blob.peek(512)[:512])
    h = HashingReader(blob)
    h.drain()
    return Indexed(hit, h.hexdigest(), h.count, kind)
