"""The layer walk as it was before slimscope.index.tarwalk: over `tarfile`.

Kept only as the oracle the new walker is compared with (tests/unit/test_tarwalk.py,
bench/): on a well-formed tar both must produce the same LayerIndex.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from typing import IO, Optional

from slimscope.errors import BadInput
from slimscope.index.records import (
    DIR,
    FILE,
    HARDLINK,
    NO_DIGEST,
    OPAQUE,
    SYMLINK,
    TAR_KINDS,
    WH_OPAQUE,
    WH_PREFIX,
    WHITEOUT,
    LayerIndex,
    clean_path,
    parent_of,
)
from slimscope.index.streams import CHUNK


def tarfile_index(stream: IO[bytes], hash_contents: bool = True,
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
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise BadInput(f"{what} is truncated or corrupt ({e})") from None
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


