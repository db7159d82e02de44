"""What a layer index holds: entry kinds, tar paths made clean, and the columnar record.

Columns (arrays, one bytearray of digests) instead of an object per entry keep the
memory per entry near the size of its path string; see bench/ for the figures.
The record is written by slimscope.index.walk and stored by slimscope.index.cache.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass, field
from typing import Optional

from slimscope.errors import BadInput

# Entry kinds. WHITEOUT hides a lower path; OPAQUE hides every lower child of a dir.
FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO, WHITEOUT, OPAQUE = range(9)
KIND_NAMES = ("file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque")



def kind_table(*kinds: int) -> bytes:
    """A bytes.translate table over a kinds column: 1 for these kinds, 0 for the rest."""
    return bytes(int(k in kinds) for k in range(256))


IS_FILE = kind_table(FILE)


WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"
NO_DIGEST = bytes(32)
# A lazy index hashes the bodies up to this size as it passes them (they are in its
# buffer already, and small sizes are the ones files share, so their digests are
# the likely ones to be asked for); a bigger body is seeked past, its offset kept.
LAZY_HASH_MAX = 16 << 10

# tarfile's type bytes (TarInfo.type) -> entry kind, spelled out: importing tarfile
# (and shutil, bz2, lzma with it) costs a warm run ~4 ms and 1 MiB
TAR_KINDS = {b"0": FILE, b"\0": FILE, b"7": FILE, b"5": DIR, b"2": SYMLINK, b"1": HARDLINK,
             b"3": CHAR, b"4": BLOCK, b"6": FIFO}


def clean_path(name: str, what: str = "entry") -> str:
    """Normalise a tar member name to an absolute path; refuse names that climb out."""
    # The common case, already clean ("usr/bin/x", "usr/bin/"): no "", "." or ".." parts.
    bare = name[:-1] if name.endswith("/") else name
    if bare and bare[0] != "/" and bare[0] != "." and bare[-1] != "/" and "//" not in bare \
            and "/." not in bare:
        return "/" + bare
    if name.startswith("/"):
        raise BadInput(f"layer {what} has an absolute path: {name!r}")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise BadInput(f"layer {what} climbs out of the root with '..': {name!r}")
        parts.append(part)
    return "/" + "/".join(parts)


def parent_of(path: str) -> str:
    cut = path.rfind("/")
    return path[:cut] if cut > 0 else "/"


@dataclass
class LayerIndex:
    """Every entry of one layer tar, in tar order."""

    paths: list[str] = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    sizes: array[int] = field(default_factory=lambda: array("q"))
    modes: array[int] = field(default_factory=lambda: array("I"))
    uids: array[int] = field(default_factory=lambda: array("I"))
    gids: array[int] = field(default_factory=lambda: array("I"))
    mtimes: array[int] = field(default_factory=lambda: array("q"))
    digests: bytearray = field(default_factory=bytearray)
    links: dict[int, str] = field(default_factory=dict)  # entry index -> link target
    # per entry, where its body starts in the layer tar (-1: none, or hashed already);
    # empty unless the index was read lazily (slimscope.index.bodies fills the rest)
    offsets: array[int] = field(default_factory=lambda: array("q"))
    hashed: bool = True  # every regular file's digest is here
    lazy: bool = False   # those it lacks can still be read: each has an offset
    diff_id: str = ""
    tar_bytes: int = 0

    def __len__(self) -> int:
        return len(self.paths)

    def digest(self, i: int) -> Optional[bytes]:
        d = bytes(self.digests[i * 32:(i + 1) * 32])
        return None if d == NO_DIGEST else d

    def wants_digest(self, i: int) -> bool:
        """Whether entry i is a body whose digest is not read yet but can be."""
        return bool(self.offsets) and self.offsets[i] >= 0

    def add(self, path: str, kind: int, size: int, mode: int, uid: int, gid: int, mtime: int,
            digest: bytes = NO_DIGEST, link: Optional[str] = None) -> int:
        i = len(self.paths)
        try:
            # the fixed-width columns first: a value out of their range (a tar may write
            # uids and times of any size) is refused before any column has grown
            self.sizes.append(size)
            self.modes.append(mode)
            self.uids.append(uid)
            self.gids.append(gid)
            self.mtimes.append(mtime)
        except (OverflowError, TypeError):
            del self.sizes[i:], self.modes[i:], self.uids[i:], self.gids[i:], self.mtimes[i:]
            raise BadInput(f"layer entry {path!r} has a size, mode, uid, gid or mtime out of "
                           "range") from None
        self.paths.append(path)
        self.kinds.append(kind)
        self.digests += digest
        if link is not None:
            self.links[i] = link
        return i

    # -- cache format: a small header then the raw columns; no pickle, so a cache
    # file can never run code.
    def dumps(self) -> bytes:
        names = "\0".join(self.paths).encode("utf-8", "surrogateescape")
        links = "\0".join(f"{i}\0{t}" for i, t in self.links.items()).encode("utf-8", "surrogateescape")
        parts = [names, bytes(self.kinds), self.sizes.tobytes(), self.modes.tobytes(),
                 self.uids.tobytes(), self.gids.tobytes(), self.mtimes.tobytes(),
                 bytes(self.digests), links, self.offsets.tobytes()]
        sizes = ",".join(str(len(p)) for p in parts)
        digests = 1 if self.hashed else 2 if self.lazy else 0
        head = (f"SLIMIDX2 {len(self.paths)} {digests} {self.tar_bytes} "
                f"{self.diff_id or '-'} {sizes}\n").encode()
        # Not compressed: inflating it took longer on a warm run than reading the
        # bytes; a third of it is digests, which do not compress anyway.
        return head + b"".join(parts)

    @classmethod
    def loads(cls, blob: bytes, limit: int = 0) -> LayerIndex:
        """The index `dumps` wrote (or, zlib-compressed, an earlier version); with
        `limit`, refuse one bigger than that."""
        if blob[:7] == b"SLIMIDX":
            if limit and len(blob) > limit:
                raise ValueError("layer index too large")
            raw = blob
        elif limit:
            inflate = zlib.decompressobj()
            raw = inflate.decompress(blob, limit)
            if inflate.unconsumed_tail or not inflate.eof:
                raise ValueError("layer index too large or damaged")
        else:
            raw = zlib.decompress(blob)
        nl = raw.index(b"\n")
        magic, count, hashed, tar_bytes, diff_id, lens = raw[:nl].decode().split(" ")
        if magic not in ("SLIMIDX1", "SLIMIDX2"):
            raise ValueError("not a layer index")
        pos = nl + 1
        # views, not slices: each column is copied once, into its own array
        whole = memoryview(raw)
        chunks: list[memoryview] = []
        for ln in map(int, lens.split(",")):
            chunks.append(whole[pos:pos + ln])
            pos += ln
        if magic == "SLIMIDX1":  # written before lazy indexes: never has offsets
            chunks.append(whole[:0])
        names, kinds, sizes, modes, uids, gids, mtimes, digests, links, offsets = chunks
        idx = cls(hashed=hashed == "1", lazy=hashed == "2", tar_bytes=int(tar_bytes),
                  diff_id="" if diff_id == "-" else diff_id)
        n = int(count)
        idx.paths = str(names, "utf-8", "surrogateescape").split("\0") if n else []
        idx.kinds = bytearray(kinds)
        for col, data in ((idx.sizes, sizes), (idx.modes, modes), (idx.uids, uids),
                          (idx.gids, gids), (idx.mtimes, mtimes)):
            col.frombytes(data)
        idx.digests = bytearray(digests)
        idx.offsets.frombytes(offsets)
        if links:
            items = str(links, "utf-8", "surrogateescape").split("\0")
            idx.links = {int(items[i]): items[i + 1] for i in range(0, len(items), 2)}
        if not (len(idx.paths) == len(idx.kinds) == len(idx.sizes) == len(idx.modes)
                == len(idx.uids) == len(idx.gids) == len(idx.mtimes) == n) \
                or len(idx.digests) != 32 * n or any(not 0 <= i < n for i in idx.links) \
                or len(idx.offsets) != (n if idx.lazy else 0):
            raise ValueError("layer index columns disagree")
        return idx


