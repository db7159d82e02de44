"""One streaming pass over a layer tar into a LayerIndex; nothing is extracted.

A layer's index depends only on its bytes, so it can be computed in any process
(slimscope.index.parallel) and cached by diff_id (slimscope.index.cache).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Optional

from slimscope.errors import BadInput
from slimscope.index.records import (DIR, FILE, HARDLINK, NO_DIGEST, OPAQUE, SYMLINK, TAR_KINDS,
                                     WH_OPAQUE, WH_PREFIX, WHITEOUT, LayerIndex, clean_path,
                                     parent_of)
from slimscope.index.streams import (CHUNK, HashingReader, Readable, decompressed, is_zstd_error,
                                     sniff)


@dataclass(frozen=True)
class Indexed:
    """A layer blob as stored, and its index (which carries the diff_id)."""

    index: LayerIndex
    digest: str        # sha256 of the blob as stored
    stored_bytes: int  # the blob's size as stored
    kind: str          # what `sniff` calls it: tar, gzip or zstd


def index_tar(stream: IO[bytes], hash_contents: bool = True,
              progress: Optional[Callable[[int], None]] = None, what: str = "layer") -> LayerIndex:
    """Index an uncompressed layer tar stream in one pass; nothing is extracted."""
    idx = LayerIndex(hashed=hash_contents)
    try:
        tf = tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape")
    except tarfile.ReadError as e:
        raise BadInput(f"{what} is truncated or corrupt (no tar inside: {e})") from None
    try:
        while True:
            # tarfile keeps every TarInfo it has read in tf.members: drop them as we go,
            # or a layer's worth of them (~500 B each) is held until the layer is done.
            ti = tf.next()
            tf.members.clear()  # type: ignore[attr-defined]  # real, but not in typeshed
            if ti is None:
                break
            name = ti.name
            base = name.rstrip("/").rsplit("/", 1)[-1]
            if ti.size < 0:
                raise BadInput(f"{what} entry {name!r} declares an impossible size {ti.size}")
            mtime = int(ti.mtime)
            mode = ti.mode & 0o7777
            if base.startswith(WH_PREFIX):
                path = clean_path(name, f"{what} whiteout")
                parent = parent_of(path)
                if base == WH_OPAQUE:
                    idx.add(parent, OPAQUE, 0, mode, ti.uid, ti.gid, mtime)
                elif base.startswith(WH_PREFIX + WH_PREFIX):
                    continue  # aufs bookkeeping (.wh..wh.plnk and the like), not a change
                else:
                    target = (parent.rstrip("/") + "/" + base[len(WH_PREFIX):])
                    idx.add(target, WHITEOUT, 0, mode, ti.uid, ti.gid, mtime)
                continue
            kind = TAR_KINDS.get(ti.type)
            if kind is None:
                continue  # sparse/vendor types carry no file of their own
            path = clean_path(name, what)
            if path == "/" and kind == DIR:
                continue
            if kind == FILE:
                digest = NO_DIGEST
                if hash_contents:
                    sha = hashlib.sha256()
                    read = _body_reader(tf, ti, what)
                    left = ti.size
                    while left:
                        chunk = read(min(left, CHUNK))
                        if not chunk:
                            raise BadInput(f"{what} is truncated inside {name!r}")
                        sha.update(chunk)
                        left -= len(chunk)
                    digest = sha.digest()
                idx.add(path, FILE, ti.size, mode, ti.uid, ti.gid, mtime, digest)
            elif kind == HARDLINK:
                idx.add(path, HARDLINK, 0, mode, ti.uid, ti.gid, mtime,
                        link=clean_path(ti.linkname, f"{what} hardlink target"))
            elif kind == SYMLINK:
                idx.add(path, SYMLINK, 0, mode, ti.uid, ti.gid, mtime, link=ti.linkname)
            else:
                idx.add(path, kind, 0, mode, ti.uid, ti.gid, mtime)
            if progress is not None:
                progress(ti.size)
    except BadInput:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as e:
        raise BadInput(f"{what} is truncated or corrupt ({_reason(e)})") from None
    except Exception as e:
        if is_zstd_error(e):
            raise BadInput(f"{what} is truncated or corrupt (zstd: {e})") from None
        raise
    return idx


def _body_reader(tf: tarfile.TarFile, ti: tarfile.TarInfo, what: str) -> Callable[[int], bytes]:
    # The body follows its header in the stream: read it from there, which costs far
    # less per file than an extractfile object; sparse files (or any surprise about the
    # position) go through tarfile.
    f = tf.fileobj
    if ti.sparse is None and f is not None and f.tell() == ti.offset_data:
        return f.read
    member = tf.extractfile(ti)
    if member is None:
        raise BadInput(f"{what} entry {ti.name!r} cannot be read")
    return member.read


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


