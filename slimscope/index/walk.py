"""One streaming pass over a layer tar into a LayerIndex; nothing is extracted.

A layer's index depends only on its bytes, so it can be computed in any process
(slimscope.index.parallel) and cached by diff_id (slimscope.index.cache).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from slimscope.errors import BadInput
from slimscope.index.records import LayerIndex
from slimscope.index.streams import CHUNK, HashingReader, Readable, decompressed, is_zstd_error, sniff
from slimscope.index.tarwalk import index_tar

__all__ = ["Indexed", "index_blob", "index_tar"]


@dataclass(frozen=True)
class Indexed:
    """A layer blob as stored, and its index (which carries the diff_id)."""

    index: LayerIndex
    digest: str        # sha256 of the blob as stored
    stored_bytes: int  # the blob's size as stored
    kind: str          # what `sniff` calls it: tar, gzip or zstd


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


def index_blob(raw: Readable, hash_contents: bool = True,
               progress: Optional[Callable[[int], None]] = None, what: str = "layer") -> Indexed:
    """Index a layer blob as stored (plain, gzip or zstd)."""
    outer = HashingReader(raw)
    buffered = io.BufferedReader(outer, CHUNK)
    kind = sniff(buffered.peek(512)[:512])
    if kind not in ("gzip", "zstd", "tar"):
        raise BadInput(f"{what} is neither a tar archive nor gzip/zstd-compressed")
    try:
        # An uncompressed blob is its own tar: hash it once, not twice.
        inner = HashingReader(decompressed(buffered, kind)) if kind != "tar" else None
        idx = index_tar(io.BufferedReader(inner, CHUNK) if inner else buffered, hash_contents,
                        progress, what)
        if inner:
            inner.drain()  # tarfile stops at the end marker; the diff_id covers the padding too
    except BadInput:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as e:
        raise BadInput(f"{what} is truncated or corrupt ({_reason(e)})") from None
    except Exception as e:
        if is_zstd_error(e):
            raise BadInput(f"{what} is truncated or corrupt (zstd: {e})") from None
        raise
    while buffered.read(CHUNK):
        pass
    idx.diff_id = (inner or outer).hexdigest()
    idx.tar_bytes = (inner or outer).count
    return Indexed(idx, outer.hexdigest(), outer.count, kind)


