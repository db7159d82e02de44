"""Layer indexes on disk, keyed by diff_id (and by blob digest when compressed):
images that share a base share the work.

A cache directory is not trusted: anything may have been written there (a
restored CI cache, another tool, a full disk). So each entry says what it was
made from (the keys it was filed under, the blob's digest and size, the format
version) and carries a CRC-32 of its payload; an entry is used only when all of
that agrees with what is asked for, and is otherwise discarded and rebuilt.
Only regular files are opened, and only so many bytes are read or inflated.

A second kind of entry, a *file note*, lets a run skip reading a layer at all: it
says that a byte range of a local file, while the file kept its identity (device,
inode, size, modification and change time, all in ns), was read through and hashed
to this blob digest and diff_id. The change time is set by the kernel on every
write and cannot be set back by a user, so an unchanged identity means unchanged
bytes, the bargain make, rsync and git's index strike too. The note names the
entry filed under the blob's digest; that entry is still checked as above. A note
cannot be planted for a file before it exists (its key holds the file's inode and
change time), so a cache restored from elsewhere brings no note that matches.
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from collections.abc import Callable, Iterable
from typing import BinaryIO, Optional

from slimscope import stale
from slimscope.index.digests import small_sha256_hex
from slimscope.index.records import LayerIndex
from slimscope.index.streams import HashingReader, Peekable, sniff
from slimscope.index.walk import Indexed

FORMAT = b"SLIMCACHE3"
NOTE = "SLIMNOTE1"
# An index takes well under 100 bytes an entry; these bound a hostile entry, not a real one.
MAX_ENTRY_BYTES = 256 << 20
MAX_INDEX_BYTES = 2 << 30


_swept: dict[str, bool] = {}


def cache_dir() -> Optional[str]:
    if os.environ.get("SLIMSCOPE_NO_CACHE"):
        return None
    base = os.environ.get("SLIMSCOPE_CACHE_DIR")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                            "slimscope")
    return os.path.join(base, "layers-v2")


def _checksum(payload: bytes) -> str:
    # Against damage (a cut-short copy, a flipped bit), not against someone who can
    # write the directory: they could write any checksum. CRC-32 runs at memory
    # speed; a sha256 of the payload cost a warm run more than reading it did.
    return format(zlib.crc32(payload), "08x")


def encode_entry(keys: Iterable[str], idx: LayerIndex, blob_digest: str = "",
                 blob_size: int = -1) -> bytes:
    """One cache file: a header naming what the index was made from, then the index."""
    payload = idx.dumps()
    filed = ",".join(sorted(k for k in keys if k))
    head = b" ".join([FORMAT, filed.encode() or b"-", (blob_digest or "-").encode(),
                      str(blob_size).encode(), (idx.diff_id or "-").encode(),
                      str(len(payload)).encode(), _checksum(payload).encode()])
    return head + b"\n" + payload


def decode_entry(data: bytes, key: str) -> tuple[LayerIndex, str, int]:
    """(index, blob digest or "", blob size or -1) of an entry asked for under `key`;
    ValueError when anything about it disagrees."""
    nl = data.find(b"\n", 0, 1024)
    if nl < 0:
        raise ValueError("no header")
    fields = data[:nl].decode("ascii").split(" ")
    if len(fields) != 7 or fields[0] != FORMAT.decode():
        raise ValueError("not this format")
    _, filed, blob_digest, blob_size, diff_id, length, checksum = fields
    payload = data[nl + 1:]
    if key not in filed.split(",") or len(payload) != int(length) \
            or _checksum(payload) != checksum:
        raise ValueError("entry made from something else, or damaged")
    idx = LayerIndex.loads(payload, MAX_INDEX_BYTES)
    if (idx.diff_id or "-") != diff_id:
        raise ValueError("entry's diff_id disagrees with its header")
    return idx, "" if blob_digest == "-" else blob_digest, int(blob_size)


def read_regular(path: str, limit: int) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes (not a
    symlink, FIFO or device: those are never opened for reading); OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            raise OSError(errno.EINVAL, "not a regular file of a sane size")
        chunks, left = [], st.st_size + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise OSError(errno.EFBIG, "grew while read")
        return b"".join(chunks)
    finally:
        os.close(fd)


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
        if not self.enabled or not key:
            return False
        try:
            return stat.S_ISREG(os.lstat(self._file(key)).st_mode)
        except (OSError, ValueError):
            return False

    def lookup(self, key: str, need_hash: bool) -> Optional[tuple[LayerIndex, str, int]]:
        """(index, blob digest, blob size) stored under key, or None; a stored entry that
        does not check out is removed so that the next run rebuilds it."""
        if not self.enabled or not key:
            return None
        path = self._file(key)
        try:
            data = read_regular(path, MAX_ENTRY_BYTES)
        except (OSError, ValueError):
            if os.path.lexists(path):
                self._discard(path)
            return None
        try:
            found = decode_entry(data, key)
        except (ValueError, IndexError, zlib.error, UnicodeDecodeError, OverflowError,
                MemoryError):
            self._discard(path)
            return None
        if need_hash and not found[0].hashed:
            return None
        return found

    def get(self, key: str, need_hash: bool) -> Optional[LayerIndex]:
        found = self.lookup(key, need_hash)
        return found[0] if found else None

    def _discard(self, path: str) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass

    def put(self, keys: Iterable[str], idx: LayerIndex, blob_digest: str = "",
            blob_size: int = -1) -> None:
        """File `idx` under each key. Never fails: a cache that cannot be written (full
        disk, read-only directory) only costs time, and leaves no temporary behind."""
        if not self.enabled or self.directory is None:
            return
        keys = sorted({k for k in keys if k})
        if not keys:
            return
        try:
            blob = encode_entry(keys, idx, blob_digest, blob_size)
        except (OSError, ValueError, MemoryError):
            return
        for key in keys:
            self.write(key, blob)

    def write(self, key: str, blob: bytes) -> None:
        """Store `blob` as the file of `key`, atomically; never fails (see put)."""
        if not self.enabled or self.directory is None:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError:
            return
        if not _swept.get(self.directory):
            _swept[self.directory] = True
            stale.sweep(self.directory)  # what killed runs left
        final = self._file(key)
        tmp = ""
        try:
            fd, tmp = stale.mkstemp("idx", self.directory)
            try:
                view = memoryview(blob)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except (OSError, ValueError):
            if tmp:
                self._discard(tmp)


def file_identity(fd: int, offset: int, size: int) -> str:
    """The note key of bytes [offset, offset+size) of the open file `fd`, or "" when
    it is no regular file (a pipe or device has no identity to trust)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return ""
    raw = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{offset}:{size}"
    return "file-v1:" + small_sha256_hex(raw.encode())


def noted_blob(cache: Optional[IndexCache], identity: str, head: bytes,
               hash_contents: bool) -> Optional[Indexed]:
    """The index of a file range a note vouches for, without reading the range;
    `head` is its first 512 bytes (for what kind of blob it is)."""
    if cache is None or not cache.enabled or not identity:
        return None
    try:
        fields = read_regular(cache._file(identity), 1024).decode("ascii").split()
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if len(fields) != 5 or fields[0] != NOTE or fields[1] != identity \
            or not fields[4].isdigit():
        return None
    _, _, blob_digest, diff_id, blob_size = fields
    # the entry filed under the blob's digest, as a run that reads the blob would use
    found = cache.lookup(blob_digest, hash_contents)
    if found is None or found[0].diff_id != diff_id:
        return None
    return Indexed(found[0], blob_digest, int(blob_size), sniff(head))


def note_blob(cache: Optional[IndexCache], identity: str, got: Indexed) -> None:
    """Record that the file range `identity` names was read through as `got` (the blob
    hashed to got.digest, its tar to got.index.diff_id), so that the next run need
    not read it. What the image says of those bytes is checked on every run, noted or not."""
    if cache is None or not cache.enabled or not identity or not got.index.diff_id:
        return
    if not cache.has(got.digest):
        cache.put({got.digest, got.index.diff_id}, got.index, got.digest, got.stored_bytes)
    cache.write(identity, f"{NOTE} {identity} {got.digest} {got.index.diff_id} "
                          f"{got.stored_bytes}\n".encode())


def through_note(cache: Optional[IndexCache], f: BinaryIO, offset: int, size: int,
                 hash_contents: bool, read: Callable[[], Indexed],
                 check: Callable[[Indexed], object] = lambda got: None) -> Indexed:
    """The index of bytes [offset, offset+size) of the open file `f`: from its note when
    the file kept its identity since the note was written, else `read()`, noted when the
    file did not change while it was read. `check` (what the image says of the blob)
    runs on either before it is returned or noted."""
    identity = file_identity(f.fileno(), offset, size) if cache is not None else ""
    if identity:
        f.seek(offset)
        got = noted_blob(cache, identity, f.read(min(size, 512)), hash_contents)
        if got is not None:
            check(got)
            return got
    got = read()
    check(got)
    if identity and identity == file_identity(f.fileno(), offset, size):
        note_blob(cache, identity, got)
    return got


def is_cached(cache: Optional[IndexCache], key: str) -> bool:
    """Whether a layer needs only hashing (planning: no reason to start worker processes)."""
    return cache is not None and cache.has(key)


def cached_blob(cache: Optional[IndexCache], key: str, blob: Peekable,
                hash_contents: bool) -> Optional[Indexed]:
    """The cached index of the blob stored under `key`, or None.

    On a hit the blob is still read to its end, for its true digest and size: the
    caller checks that digest against `key` (slimscope.index.digests.check_digest),
    so a blob changed since it was cached is refused, never answered from the cache.
    An entry made from another blob than `key` names is not a hit.
    """
    if cache is None or not key:
        return None
    found = cache.lookup(key, hash_contents)
    if found is None:
        return None
    hit, made_from, made_size = found
    if made_from and made_from != key and hit.diff_id != key:
        return None
    kind = sniff(blob.peek(512)[:512])
    h = HashingReader(blob)
    h.drain()
    return Indexed(hit, h.hexdigest(), h.count, kind)
