"""A layer tar's headers, read straight from big buffers instead of through `tarfile`.

`tarfile` builds a TarInfo per header and reads bodies in 10 KiB steps: on a
layer of small files that is most of an analysis's time (issue 19 measured 62%).
This walker reads 1 MiB at a time, parses the few header fields the index keeps
and hashes bodies from the buffer it already holds.

It reads what `tarfile` reads the way `tarfile` reads it (ustar with its name
prefix, GNU long names and links, PAX extended and global headers, base-256
numbers), and is strict where `tarfile`'s stream mode is silent: a header whose
checksum fails, a layer that ends inside a header or a body, and an extended
header bigger than MAX_META are corrupt, not the end of the layer. Sparse files
are refused: their stored bytes are not the file.
"""

from __future__ import annotations

import io
import os
from array import array
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from hashlib import _Hash

from slimscope.errors import BadInput
from slimscope.index.digests import body_hasher, openssl_sha256, return_room
from slimscope.index.records import (
    DIR,
    FILE,
    HARDLINK,
    LAZY_HASH_MAX,
    OPAQUE,
    SYMLINK,
    WH_OPAQUE,
    WH_PREFIX,
    WHITEOUT,
    LayerIndex,
    clean_path,
    parent_of,
)
from slimscope.index.tarheader import (
    GNU_LONGLINK,
    GNU_LONGNAME,
    GNU_SPARSE,
    KIND_OF,
    MAX_META,
    META,
    NO_BODY,
    PAX_GLOBAL,
    ZERO_BLOCK,
    adler_off,
    apply_pax,
    bad_header,
    checksum_exact,
    checksum_ok,
    number,
    numbers,
    parse_pax,
    text,
)

READ = 256 << 10      # bytes asked of the stream at a time
SEEK_READ = 64 << 10  # ... when bodies are seeked past: more would read the small ones
SMALL_BODY = 4096    # a body up to this size is hashed from a copy, not a view


class _Buffer:
    """The stream's bytes, held READ at a time; `pos` is the next unread byte."""

    __slots__ = ("read", "readinto", "data", "pos", "spare", "stream", "chunk", "furthest")

    def __init__(self, stream: IO[bytes], seek: bool = False):
        self.read: Callable[[int], bytes] = stream.read
        self.readinto: Optional[Callable[[memoryview], Optional[int]]] = getattr(
            stream, "readinto", None)
        self.data, self.pos = b"", 0
        self.spare: Optional[memoryview] = None
        # bodies nothing hashes are passed by seeking (a sketch of a file's layer)
        self.stream = stream if seek and stream.seekable() else None
        self.chunk = SEEK_READ if self.stream is not None else READ
        self.furthest = 0  # the furthest a seek went: a file seeks past its end

    def fill(self, want: int) -> bool:
        """Hold at least `want` unread bytes; False if the stream ended first."""
        data = self.data[self.pos:]
        while len(data) < want:
            more = self.read(max(self.chunk, want - len(data)))
            if not more:
                self.data, self.pos = data, 0
                return False
            data = data + more if data else more
        self.data, self.pos = data, 0
        return True

    def take(self, n: int) -> Optional[bytes]:
        """The next n bytes, or None if the stream ends first."""
        if len(self.data) - self.pos < n and not self.fill(n):
            return None
        got = self.data[self.pos:self.pos + n]
        self.pos += n
        return got

    def skip(self, n: int, sha: Optional[_Hash]) -> bool:
        """Pass n bytes, into `sha` if given; False if the stream ends first."""
        held = len(self.data) - self.pos
        if n <= held:
            if sha is not None:
                sha.update(memoryview(self.data)[self.pos:self.pos + n])
            self.pos += n
            return True
        return self._skip_past(n, held, sha)

    def _skip_past(self, n: int, held: int, sha: Optional[_Hash]) -> bool:
        """skip() of more than the `held` bytes the buffer holds."""
        if sha is not None and held:
            sha.update(memoryview(self.data)[self.pos:])
        left = n - held
        self.data, self.pos = b"", 0
        if sha is None and self.stream is not None:
            self.furthest = self.stream.tell() + left
            return self.stream.seek(left, io.SEEK_CUR) == self.furthest
        if self.readinto is not None:  # a long body: through one reused buffer
            if self.spare is None:
                self.spare = memoryview(bytearray(READ))
            spare = self.spare
            while left:
                got = self.readinto(spare[:min(left, READ)])
                if not got:
                    return False
                if sha is not None:
                    sha.update(spare[:got])
                left -= got
            return True
        while left:
            chunk = self.read(min(left, READ))
            if not chunk:
                return False
            if sha is not None:
                sha.update(chunk)
            left -= len(chunk)
        return True

    def tell(self) -> int:
        """Where the next unread byte is in the stream."""
        assert self.stream is not None
        return self.stream.tell() - (len(self.data) - self.pos)

    def complete(self) -> bool:
        """Whether every body seeked past lies inside the stream."""
        return self.stream is None or self.furthest <= self.stream.seek(0, io.SEEK_END)


class _RangeBuffer(_Buffer):
    """A byte range of a file (a layer inside an archive), read with pread.

    A read that ends inside a header or a body leaves bytes over; reading them again
    with the next read costs less than joining them to it, and passing a body is
    moving an offset. No file object, no buffered reader between the file and here.
    """

    __slots__ = ("fd", "base", "start", "limit")

    def __init__(self, fd: int, start: int, size: int, chunk: int):
        self.fd, self.start, self.base = fd, start, start  # base: where data[0] is
        # a range that runs past the end of the file is cut there: truncated
        self.limit = min(start + size, os.fstat(fd).st_size)
        self.data, self.pos = b"", 0
        self.chunk = chunk
        self.stream, self.furthest, self.spare = None, 0, None

    def fill(self, want: int) -> bool:
        at = self.base + self.pos
        n = min(max(self.chunk, want), self.limit - at)
        self.data = os.pread(self.fd, n, at) if n > 0 else b""
        self.base, self.pos = at, 0
        return len(self.data) >= want

    def _skip_past(self, n: int, held: int, sha: Optional[_Hash]) -> bool:
        at, end = self.base + self.pos, self.base + self.pos + n
        self.data, self.base, self.pos = b"", min(end, self.limit), 0
        if sha is not None:
            while at < end:
                chunk = os.pread(self.fd, min(end - at, READ), at)
                if not chunk:
                    return False
                sha.update(chunk)
                at += len(chunk)
        return end <= self.limit

    def tell(self) -> int:
        return self.base + self.pos - self.start

    def complete(self) -> bool:
        return True  # skip() said so of every body


# A lazy walk reads each header and the bodies up to LAZY_HASH_MAX, and seeks past the
# rest: its work follows the layer's entries, not its bytes. lazy_cost estimates it
# from a few windows of the layer, for deciding whether worker processes are worth
# starting (slimscope.index.parallel). An entry costs the walk about what reading and
# hashing ENTRY_COST bytes does.
SAMPLES, WINDOW, ENTRY_COST = 16, 64 << 10, 4 << 10


def lazy_cost(f: IO[bytes], offset: int, size: int) -> int:
    """About how many bytes' worth of work a lazy walk of the layer tar at [offset,
    offset + size) of a file is (at most `size`): the tar headers found in SAMPLES
    windows spread over it, scaled to the whole layer, ENTRY_COST each."""
    if size <= SAMPLES * WINDOW:
        return size
    fd, blocks, headers = f.fileno(), 0, 0
    for k in range(SAMPLES):
        at = offset + (size - WINDOW) * k // (SAMPLES - 1) // 512 * 512
        data = os.pread(fd, WINDOW, at)
        magic = data.find(b"ustar", 257)   # a header's magic, where a block holds it
        while magic >= 0:
            b = magic - 257
            if b % 512 == 0 and b + 512 <= len(data):
                block = data[b:b + 512]
                try:
                    headers += checksum_ok(block, number(block[148:156]))
                except ValueError:
                    pass
            magic = data.find(b"ustar", magic + 1)
        blocks += len(data) // 512
    if not blocks:
        return size
    return min(size, headers * (size // 512) // blocks * ENTRY_COST)


def index_range(f: IO[bytes], offset: int, size: int, hash_contents: bool = True,
                what: str = "layer", lazy: bool = False) -> LayerIndex:
    """index_tar of the layer tar at [offset, offset + size) of a file: its bodies seeked
    past (without `hash_contents`), or read lazily (`lazy`, see index_tar)."""
    buf = _RangeBuffer(f.fileno(), offset, size, SEEK_READ if lazy or not hash_contents else READ)
    return _walk(buf, hash_contents, None, what, lazy and hash_contents)


def index_tar(stream: IO[bytes], hash_contents: bool = True,
              progress: Optional[Callable[[int], None]] = None, what: str = "layer",
              seek: bool = False, lazy: bool = False) -> LayerIndex:
    """Index an uncompressed layer tar stream in one pass; nothing is extracted. With
    `seek` (and no hashing) bodies are seeked past, where the stream can. `lazy` (a
    stream that seeks) hashes the bodies of up to LAZY_HASH_MAX bytes and notes where
    the others start, for slimscope.index.bodies to hash when their digests are asked."""
    lazy = lazy and hash_contents and stream.seekable()
    return _walk(_Buffer(stream, seek and not hash_contents or lazy), hash_contents, progress,
                 what, lazy)


def _walk(buf: _Buffer, hash_contents: bool, progress: Optional[Callable[[int], None]],
          what: str, lazy: bool) -> LayerIndex:
    idx = LayerIndex(hashed=hash_contents and not lazy, lazy=lazy)
    sha256, room = body_hasher(hash_contents)
    later: dict[int, int] = {}  # entry -> where its body starts, for a lazy index
    at = -1
    add = idx.add
    glob: dict[str, str] = {}
    # from PAX and GNU long-name headers, for the next entry. The header nearest the
    # entry is applied first and outer ones override it, as tarfile does: the first
    # one seen wins.
    pending: dict[str, str] = {}
    first = True
    while True:
        if len(buf.data) - buf.pos >= 512:
            block = buf.data[buf.pos:buf.pos + 512]
            buf.pos += 512
        else:
            got = buf.take(512)
            if got is None:
                if buf.data[buf.pos:]:
                    raise BadInput(f"{what} is truncated or corrupt (it ends inside a header)")
                if pending:
                    raise BadInput(f"{what} is truncated or corrupt (it ends after an "
                                   "extended header)")
                if first:
                    raise BadInput(f"{what} is truncated or corrupt (no tar inside: empty file)")
                break  # no end-of-archive blocks, as some writers do: the layer is complete
            block = got
        if block == ZERO_BLOCK:
            if pending:
                raise BadInput(f"{what} is corrupt (an extended header describes nothing)")
            break
        try:
            stored, mode, uid, gid, size, mtime = numbers(block)
        except ValueError:
            raise bad_header(block, len(idx) + 1, what) from None
        if adler_off(block, stored) and not checksum_exact(block, stored):
            raise bad_header(block, len(idx) + 1, what)
        first = False
        flag = block[156]
        if size < 0:
            raise BadInput(f"{what} entry {text(block[:100])!r} declares an impossible size "
                           f"{size}")
        padded = (size + 511) & ~511

        if flag in META:
            if size > MAX_META:
                raise BadInput(f"{what} is corrupt (an extended header declares {size} bytes; "
                               f"at most {MAX_META} are read)")
            data = buf.take(padded)
            if data is None:
                raise BadInput(f"{what} is truncated inside an extended header")
            data = data[:size]
            if flag == PAX_GLOBAL:
                parse_pax(data, glob, what)
            elif flag == GNU_LONGNAME or flag == GNU_LONGLINK:
                pending.setdefault("path" if flag == GNU_LONGNAME else "linkpath", text(data))
            else:  # global fields reach an entry only through a header of its own (tarfile)
                fields: dict[str, str] = dict(glob)
                parse_pax(data, fields, what)
                for k, v in fields.items():
                    pending.setdefault(k, v)
            continue

        cut = block.find(b"\0", 0, 100)
        name = block[:cut if cut >= 0 else 100].decode("utf-8", "surrogateescape")
        if flag == 0 and name.endswith("/"):
            flag = 0x35  # the old way of writing a directory
        if block[345] and flag != GNU_SPARSE:
            name = text(block[345:500]) + "/" + name
        link = text(block[157:257]) if flag == 0x31 or flag == 0x32 else ""
        if pending:
            name, link, size, uid, gid, mtime = apply_pax(pending, name, link, size, uid, gid,
                                                           mtime, what)
            padded = (size + 511) & ~511
            pending = {}
        if flag == GNU_SPARSE:
            raise BadInput(f"{what} entry {name!r} is a sparse file, which slimscope does not "
                           "read")

        kind = KIND_OF.get(flag)
        if kind == FILE:
            held = len(buf.data) - buf.pos
            if room and not (lazy and size > LAZY_HASH_MAX) and (room := room - size) <= 0:
                sha256, room = openssl_sha256(), 0
            if lazy and size > LAZY_HASH_MAX:
                at = buf.tell()
                sha = None
                if not buf.skip(padded, None):
                    raise BadInput(f"{what} is truncated inside {name!r}")
            elif padded <= held:  # the whole body is in the buffer already: hashed in one call
                # (a small body is quicker copied out than viewed in place)
                sha = sha256(buf.data[buf.pos:buf.pos + size] if size <= SMALL_BODY
                             else memoryview(buf.data)[buf.pos:buf.pos + size]) \
                    if hash_contents else None
                buf.pos += padded
            elif not buf.skip(size, sha := sha256() if hash_contents else None):
                raise BadInput(f"{what} is truncated inside {name!r}")
            elif padded != size and not buf.skip(padded - size, None):
                raise BadInput(f"{what} is truncated after {name!r}")
        elif flag not in NO_BODY:
            if not buf.skip(padded, None):
                raise BadInput(f"{what} is truncated inside {name!r}")
            continue  # vendor types carry no file of their own
        else:
            sha = None

        mode &= 0o7777
        if WH_PREFIX in name and (base := name.rstrip("/").rsplit("/", 1)[-1]).startswith(
                WH_PREFIX):
            path = clean_path(name, f"{what} whiteout")
            parent = parent_of(path)
            if base == WH_OPAQUE:
                add(parent, OPAQUE, 0, mode, uid, gid, mtime)
            elif not base.startswith(WH_PREFIX + WH_PREFIX):  # else aufs bookkeeping
                add(parent.rstrip("/") + "/" + base[len(WH_PREFIX):], WHITEOUT, 0, mode, uid,
                    gid, mtime)
            continue
        path = clean_path(name, what)
        if kind == FILE:
            if sha is not None:
                add(path, FILE, size, mode, uid, gid, mtime, sha.digest())
            elif lazy:
                later[add(path, FILE, size, mode, uid, gid, mtime)] = at
            else:
                add(path, FILE, size, mode, uid, gid, mtime)
        elif kind == DIR:
            if path == "/":
                continue
            add(path, DIR, 0, mode, uid, gid, mtime)
        elif kind == HARDLINK:
            add(path, HARDLINK, 0, mode, uid, gid, mtime,
                link=clean_path(link, f"{what} hardlink target"))
        elif kind == SYMLINK:
            add(path, SYMLINK, 0, mode, uid, gid, mtime, link=link)
        else:
            assert kind is not None
            add(path, kind, 0, mode, uid, gid, mtime)
        if progress is not None:
            progress(size)
    if hash_contents:
        return_room(room)
    if not buf.complete():
        raise BadInput(f"{what} is truncated (a body runs past its end)")
    if later:
        idx.offsets = array("q", [-1]) * len(idx)
        for i, start in later.items():
            idx.offsets[i] = start
    else:  # every body was small enough to hash on the way
        idx.hashed, idx.lazy = hash_contents, False
    return idx
