"""Which cache entry may answer for an archive's layer member, and the check that it does.

An OCI-layout member is named by its blob digest, which the archive is checked
against. A legacy `docker save` member (`<id>/layer.tar`, Docker <= 24 and this
engine's save stream) is named by no digest; it is looked up by the diff_id the
config gives it when the config is known before the layer (a plain archive file,
listed by its headers first), else by its `<id>`: Docker derives that id from the
layer's diff_id and its parents, so the same id names the same bytes again.

Either way a hit found by a key that is not the blob's own digest is only taken
after the member's bytes have been read through, uncompressed, and hash to the
diff_id the cached index was made from: a cache entry never answers for other bytes.
"""

from __future__ import annotations

import io
import re
from typing import Optional

from slimscope.errors import BadInput
from slimscope.index.cache import IndexCache, cached_blob
from slimscope.index.digests import digest_of_name
from slimscope.index.streams import CHUNK, HashingReader, InflateLimit, Peekable, decompressed, sniff
from slimscope.index.walk import Indexed, index_blob

LAYER_KINDS = ("gzip", "zstd", "tar")
_LEGACY = re.compile(r"([0-9a-f]{64})/layer\.tar")


def legacy_key(name: str) -> str:
    """The cache key of a legacy `docker save` member `<id>/layer.tar`, or ""."""
    m = _LEGACY.fullmatch(name)
    return f"docker-v1-id:{m.group(1)}" if m else ""


def index_member(name: str, reader: Peekable, hash_contents: bool,
                 cache: Optional[IndexCache]) -> Indexed:
    """Index one layer member of an archive (or take it from the cache by its digest)."""
    hit = cached_blob(cache, digest_of_name(name), reader, hash_contents)
    if hit is not None:
        return hit  # its digest is checked against the member's name in load()
    try:
        got = index_blob(reader, hash_contents, what=f"layer {name}")
    except InflateLimit as e:
        raise BadInput(f"layer {name}: {e}") from None
    if cache is not None:
        cache.put({got.digest, got.index.diff_id, legacy_key(name)} - {""}, got.index,
                  got.digest, got.stored_bytes)
    return got


def verified_hit(cache: IndexCache, key: str, blob: Peekable, hash_contents: bool,
                 diff_id: str = "") -> tuple[Optional[Indexed], bool]:
    """The cached index under `key` if the blob's tar hashes to the diff_id it was made
    from (and to `diff_id`, if given); and whether the blob was read in finding out.

    Reading the blob through costs a fraction of walking its tar. On a mismatch the
    caller indexes the blob again from a fresh reader.
    """
    hit = cache.get(key, hash_contents)
    if hit is None or not hit.diff_id or (diff_id and hit.diff_id != diff_id):
        return None, False
    kind = sniff(blob.peek(512)[:512])
    if kind not in LAYER_KINDS:
        return None, False
    outer = HashingReader(blob)
    inner = HashingReader(decompressed(io.BufferedReader(outer, CHUNK), kind)) \
        if kind != "tar" else outer
    inner.drain()
    outer.drain()
    if inner.hexdigest() != hit.diff_id:
        return None, True
    return Indexed(hit, outer.hexdigest(), outer.count, kind), True
