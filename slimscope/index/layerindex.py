"""One streaming pass over a layer tar into a compact, columnar index.

A layer's index depends only on its bytes, so it is cached by diff_id. Columns
(arrays, one bytearray of digests) instead of an object per entry keep the
memory per entry near the size of its path string; see bench/ for the figures.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib
from array import array
from dataclasses import dataclass, field
from typing import IO, Callable, Optional

from slimscope.errors import BadInput

# Entry kinds. WHITEOUT hides a lower path; OPAQUE hides every lower child of a dir.
FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO, WHITEOUT, OPAQUE = range(9)
KIND_NAMES = ("file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque")

WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"
NO_DIGEST = bytes(32)
CHUNK = 1 << 20

TAR_KINDS = {
    tarfile.REGTYPE: FILE,
    tarfile.AREGTYPE: FILE,
    tarfile.CONTTYPE: FILE,
    tarfile.DIRTYPE: DIR,
    tarfile.SYMTYPE: SYMLINK,
    tarfile.LNKTYPE: HARDLINK,
    tarfile.CHRTYPE: CHAR,
    tarfile.BLKTYPE: BLOCK,
    tarfile.FIFOTYPE: FIFO,
}


def clean_path(name: str, what: str = "entry") -> str:
    """Normalise a tar member name to an absolute path; refuse names that climb out."""
    # The common case, already clean ("usr/bin/x", "usr/bin/"): no "", "." or ".." parts.
    bare = name[:-1] if name.endswith("/") else name
    if bare and bare[0] != "/" and bare[0] != "." and bare[-1] != "/" and "//" not in bare \
            and "/." not in bare:
        return "/" + bare
    if name.startswith("/"):
        raise BadInput(f"layer {what} has an absolute path: {name!r}")
    parts = []
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

    paths: list = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    sizes: array = field(default_factory=lambda: array("q"))
    modes: array = field(default_factory=lambda: array("I"))
    uids: array = field(default_factory=lambda: array("I"))
    gids: array = field(default_factory=lambda: array("I"))
    mtimes: array = field(default_factory=lambda: array("q"))
    digests: bytearray = field(default_factory=bytearray)
    links: dict = field(default_factory=dict)  # entry index -> link target (symlink/hardlink)
    hashed: bool = True
    diff_id: str = ""
    tar_bytes: int = 0

    def __len__(self) -> int:
        return len(self.paths)

    def digest(self, i: int) -> Optional[bytes]:
        d = bytes(self.digests[i * 32:(i + 1) * 32])
        return None if d == NO_DIGEST else d

    def add(self, path, kind, size, mode, uid, gid, mtime, digest=NO_DIGEST, link=None):
        i = len(self.paths)
        self.paths.append(path)
        self.kinds.append(kind)
        self.sizes.append(size)
        self.modes.append(mode)
        self.uids.append(uid)
        self.gids.append(gid)
        self.mtimes.append(mtime)
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
                 bytes(self.digests), links]
        head = ("SLIMIDX1 %d %d %d %s %s\n" % (len(self.paths), int(self.hashed), self.tar_bytes,
                                               self.diff_id or "-",
                                               ",".join(str(len(p)) for p in parts))).encode()
        return zlib.compress(head + b"".join(parts), 1)

    @classmethod
    def loads(cls, blob: bytes) -> "LayerIndex":
        raw = zlib.decompress(blob)
        nl = raw.index(b"\n")
        magic, n, hashed, tar_bytes, diff_id, lens = raw[:nl].decode().split(" ")
        if magic != "SLIMIDX1":
            raise ValueError("not a layer index")
        pos = nl + 1
        chunks = []
        for ln in map(int, lens.split(",")):
            chunks.append(raw[pos:pos + ln])
            pos += ln
        names, kinds, sizes, modes, uids, gids, mtimes, digests, links = chunks
        idx = cls(hashed=bool(int(hashed)), tar_bytes=int(tar_bytes),
                  diff_id="" if diff_id == "-" else diff_id)
        n = int(n)
        idx.paths = names.decode("utf-8", "surrogateescape").split("\0") if n else []
        idx.kinds = bytearray(kinds)
        for col, data in ((idx.sizes, sizes), (idx.modes, modes), (idx.uids, uids),
                          (idx.gids, gids), (idx.mtimes, mtimes)):
            col.frombytes(data)
        idx.digests = bytearray(digests)
        if links:
            items = links.decode("utf-8", "surrogateescape").split("\0")
            idx.links = {int(items[i]): items[i + 1] for i in range(0, len(items), 2)}
        if not (len(idx.paths) == len(idx.kinds) == len(idx.sizes) == n):
            raise ValueError("layer index columns disagree")
        return idx


class HashingReader(io.RawIOBase):
    """Passes reads through while hashing and counting every byte."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.count = 0

    def readable(self):
        return True

    def readinto(self, b):
        readinto = getattr(self.raw, "readinto", None)
        if readinto is not None:  # straight into the caller's buffer: one copy fewer
            n = readinto(b) or 0
            if n:
                with memoryview(b) as view:
                    self.sha.update(view[:n])
                self.count += n
            return n
        data = self.raw.read(len(b))
        if not data:
            return 0
        n = len(data)
        b[:n] = data
        self.sha.update(data)
        self.count += n
        return n

    def read(self, n=-1):
        data = self.raw.read() if n is None or n < 0 else self.raw.read(n)
        self.sha.update(data)
        self.count += len(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def sniff(head: bytes) -> str:
    """What a blob's first bytes say it is: gzip, zstd, tar, json or other."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    if len(head) >= 512 and head[:512] == bytes(512):
        return "tar"  # an empty tar: nothing but end-of-archive blocks
    return "other"


def decompressed(raw: IO[bytes], kind: str) -> IO[bytes]:
    if kind == "gzip":
        import gzip
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


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
            tf.members.clear()
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
                    # The body follows its header in the stream: read it from there, which
                    # costs far less per file than an extractfile object; sparse files
                    # (or any surprise about the position) go through tarfile.
                    f = tf.fileobj
                    if ti.sparse is not None or f.tell() != ti.offset_data:
                        f = tf.extractfile(ti)
                    left = ti.size
                    while left:
                        chunk = f.read(min(left, CHUNK))
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
    except Exception as e:  # zstandard raises its own error type
        if type(e).__module__.startswith("zstandard"):
            raise BadInput(f"{what} is truncated or corrupt (zstd: {e})") from None
        raise
    return idx


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]


def index_blob(raw: IO[bytes], hash_contents: bool = True, progress=None, what: str = "layer"):
    """Index a layer blob as stored (plain, gzip or zstd).

    Returns (index, blob_digest, blob_size, media kind). The index carries the
    diff_id: the sha256 of the uncompressed tar.
    """
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
        if type(e).__module__.startswith("zstandard"):
            raise BadInput(f"{what} is truncated or corrupt (zstd: {e})") from None
        raise
    while buffered.read(CHUNK):
        pass
    idx.diff_id = (inner or outer).hexdigest()
    idx.tar_bytes = (inner or outer).count
    return idx, outer.hexdigest(), outer.count, kind


# -- cache ---------------------------------------------------------------------

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

    def put(self, keys, idx: LayerIndex) -> None:
        if not self.enabled:
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
