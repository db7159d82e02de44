"""The offline rewrite: the final filesystem streamed into one new layer.

Every layer is read once, in storage order, through `source.layer_streams`;
nothing is extracted. Entries keep their tar headers (mode with setuid/setgid/
sticky, owner, mtime, PAX records such as `SCHILY.xattr.security.capability`,
device numbers). Directories are written first, from the index, so every parent
precedes its children; bodies follow as their layers go by; hardlinks come last,
pointing at the name that carries their body (a surviving twin when the first
name was deleted or removed).

With `start > 0` (--keep-base) the layers below `start` are copied as they are
and the new layer is a diff over them: what the upper layers changed, plus a
whiteout for every base path the result no longer shows.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from slimscope import stale
from slimscope.core.compose import compose, unpack
from slimscope.errors import BadInput
from slimscope.index.records import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    SYMLINK,
    TAR_KINDS,
    WH_OPAQUE,
    WH_PREFIX,
    clean_path,
    parent_of,
)
from slimscope.index.streams import CHUNK
from slimscope.slim.tarout import stream_writer

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# PAX records that tarfile rebuilds from the TarInfo fields; stale copies would win.
_REBUILT_PAX = ("path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "hdrcharset")


class _HashWriter(io.BufferedIOBase):
    """A write-only file that hashes and counts what passes through (a file object, so
    that tarfile and gzip take it as one)."""

    def __init__(self, f: BinaryIO) -> None:
        super().__init__()
        self.f, self.sha, self.n = f, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: ReadableBuffer) -> int:
        self.f.write(b)
        self.sha.update(b)
        n = memoryview(b).nbytes
        self.n += n
        return n

    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


class _Tee:
    """Reads through to `raw`, copying every byte to `sink` and hashing it."""

    def __init__(self, raw, sink):
        self.raw, self.out = raw, _HashWriter(sink)

    def read(self, n=-1):
        data = self.raw.read(n) if n is not None and n >= 0 else self.raw.read()
        if data:
            self.out.write(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


@dataclass
class LayerFile:
    path: str       # an uncompressed layer tar on disk
    diff_id: str
    size: int


@dataclass
class Squashed:
    base: list                 # LayerFile per kept base layer
    layer: LayerFile           # the new layer
    entries: int = 0
    whiteouts: int = 0
    notes: list = field(default_factory=list)


def _members(tf, idx, what):
    """(entry number, TarInfo) for the tar members, numbered as the LayerIndex numbers them."""
    i = 0
    for ti in tf:
        name = ti.name
        base = name.rstrip("/").rsplit("/", 1)[-1]
        if base.startswith(WH_PREFIX):
            if base != WH_OPAQUE and base.startswith(WH_PREFIX + WH_PREFIX):
                continue
            yield i, ti
            i += 1
            continue
        kind = TAR_KINDS.get(ti.type)
        if kind is None:
            continue
        path = clean_path(name, what)
        if path == "/" and kind == DIR:
            continue
        if i >= len(idx.paths) or idx.paths[i] != path:
            raise BadInput(f"{what} is not what was analyzed a moment ago (at {path}); "
                           "did the image change?")
        yield i, ti
        i += 1


def _tarinfo(name: str, idx, i: int, kind: bytes) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name.lstrip("/"))
    ti.type = kind
    ti.mode, ti.uid, ti.gid, ti.mtime = idx.modes[i], idx.uids[i], idx.gids[i], idx.mtimes[i]
    return ti


def restamp(ti: tarfile.TarInfo, path: str, idx=None, i: int = 0) -> tarfile.TarInfo:
    """Give a read TarInfo a new name (and the metadata of entry i of idx, when given)."""
    if ti.pax_headers:
        ti.pax_headers = {k: v for k, v in ti.pax_headers.items() if k not in _REBUILT_PAX}
    ti.name = path.lstrip("/")
    if idx is not None:
        ti.mode, ti.uid, ti.gid, ti.mtime = idx.modes[i], idx.uids[i], idx.gids[i], idx.mtimes[i]
        ti.uname = ti.gname = ""
    if ti.type in (tarfile.AREGTYPE, tarfile.CONTTYPE):
        ti.type = tarfile.REGTYPE
    return ti


def _has_xattrs(ti: tarfile.TarInfo) -> bool:
    return any(k.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr.")) for k in ti.pax_headers)


def squash(analysis, plan, start: int, workdir: str) -> Squashed:
    """Write the new layer (and copies of the kept base layers) into workdir."""
    composed = analysis.composed
    layers = composed.layers
    image = analysis.image
    keep = {p: r for p, r in composed.final.items() if p not in plan.removed}
    upper = {p: r for p, r in keep.items() if (r >> 32) >= start}

    def kind_of(ref):
        li, i = unpack(ref)
        return layers[li].kinds[i]

    # Every content unit the new layer shows, the names it shows it under, and
    # the one name that carries the body (its own when that survives).
    names: dict = {}
    for p, r in upper.items():
        u = composed.unit_of(r)
        if u is not None:
            names.setdefault(u, []).append(p)
    body_name = {}
    for u, ps in names.items():
        li, i = unpack(u)
        own = layers[li].paths[i]
        body_name[u] = own if upper.get(own) == u else min(ps)
    wanted: dict = {}     # layer -> {entry: [paths to write it under]}
    for u, name in body_name.items():
        li, i = unpack(u)
        wanted.setdefault(li, {}).setdefault(i, []).append(name)
    dirs = []
    for p, r in upper.items():
        k = kind_of(r)
        li, i = unpack(r)
        if k in (SYMLINK, CHAR, BLOCK, FIFO):
            wanted.setdefault(li, {}).setdefault(i, []).append(p)
        elif k == DIR:
            dirs.append(p)
            wanted.setdefault(li, {}).setdefault(i, []).append(p)   # re-emitted only with xattrs

    whiteouts = []
    if start:
        base_final = compose(layers[:start]).final
        for p in base_final:
            if p in keep:
                continue
            parent = parent_of(p)
            if parent == "/" or (parent in keep and kind_of(keep[parent]) == DIR):
                whiteouts.append(p)

    out_path = os.path.join(workdir, "layer.tar")
    result = Squashed([], LayerFile(out_path, "", 0))
    with open(out_path, "wb") as raw:
        hw = _HashWriter(raw)
        with stream_writer(hw) as out:
            for p in sorted(dirs):
                li, i = unpack(upper[p])
                out.addfile(_tarinfo(p, layers[li], i, tarfile.DIRTYPE))
            for p in sorted(whiteouts):
                parent = parent_of(p)
                wh = (parent.rstrip("/") + "/" + WH_PREFIX + p.rsplit("/", 1)[1])
                ti = tarfile.TarInfo(wh.lstrip("/"))
                ti.mode = 0o644
                out.addfile(ti)
            written = len(dirs) + len(whiteouts)
            kept: dict = {}    # position -> copy; sources stream layers in their own order
            for positions, stream in image.source.layer_streams(image):
                spool = None
                if min(positions) < start:
                    pos = min(positions)
                    spool = open(os.path.join(workdir, f"base-{pos}.tar"), "wb")
                    stream = _Tee(stream, spool)
                todo: dict = {}
                for pos in positions:
                    for i, ps in wanted.get(pos, {}).items():
                        todo.setdefault(i, []).extend(ps)
                try:
                    if todo:
                        written += _copy_entries(stream, layers[positions[0]], todo, out, upper,
                                                 layers, f"layer {positions[0]}")
                    if spool is not None:
                        stream.drain()
                        spool.close()
                        diff_id = stream.out.digest()
                        if diff_id != layers[positions[0]].diff_id:
                            raise BadInput(f"layer {positions[0]} does not match its diff_id on "
                                           "the second read; did the image change?")
                        for pos in positions:
                            if pos < start:
                                kept[pos] = LayerFile(spool.name, diff_id, stream.out.n)
                finally:
                    if spool is not None and not spool.closed:
                        spool.close()
            result.base = [kept[pos] for pos in range(start)]
            # hardlinks last: their body is in the tar by now
            for u, ps in sorted(names.items(), key=lambda kv: body_name[kv[0]]):
                for p in sorted(ps):
                    if p == body_name[u]:
                        continue
                    li, i = unpack(upper[p])
                    ti = _tarinfo(p, layers[li], i, tarfile.LNKTYPE)
                    ti.linkname = body_name[u].lstrip("/")
                    out.addfile(ti)
                    written += 1
    result.layer = LayerFile(out_path, hw.digest(), hw.n)
    result.entries = written
    result.whiteouts = len(whiteouts)
    return result


def _copy_entries(stream, idx, todo: dict, out, upper: dict, layers, what: str) -> int:
    n = 0
    tf = tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape")
    for i, ti in _members(tf, idx, what):
        targets = todo.get(i)
        if not targets:
            continue
        first = targets[0]
        if ti.isdir():
            if _has_xattrs(ti):
                out.addfile(restamp(ti, first))
                n += 1
            continue
        if ti.isreg():
            li, j = unpack(upper[first])
            own = idx.paths[i] == first
            out.addfile(restamp(ti, first, None if own else layers[li], j), tf.extractfile(ti))
            n += 1
            for other in targets[1:]:
                li, j = unpack(upper[other])
                link = _tarinfo(other, layers[li], j, tarfile.LNKTYPE)
                link.linkname = first.lstrip("/")
                out.addfile(link)
                n += 1
            continue
        for p in targets:
            out.addfile(restamp(copy.copy(ti), p))
            n += 1
    return n


# -- the image around the layers ------------------------------------------------


def workdir_near(path: str | None) -> tempfile.TemporaryDirectory:
    """A scratch directory next to the output (same filesystem), else in $TMPDIR."""
    where = os.path.dirname(os.path.abspath(path)) if path else None
    try:
        stale.sweep(where or tempfile.gettempdir())
        return tempfile.TemporaryDirectory(prefix=stale.prefix("work"), dir=where)
    except OSError as e:
        raise BadInput(f"cannot write next to {path}: {e.strerror}") from None
