"""Byte streams the sources and the layer walk read through.

Each one does one thing to a stream on its way by: hash and count it, report
progress, cut a byte range out of a file, turn an iterator of chunks into a
file, or take away its compression.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO, Optional, Protocol, Union

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# gzip, bzip2, xz: an archive file read through a decompressor
COMPRESSED_MAGIC = (GZIP_MAGIC, b"BZh", b"\xfd7zXZ")

# A file an archive is read from: opened from disk, or a raw stream such as IterStream.
ByteFile = Union[io.BufferedReader, io.RawIOBase]

Progress = Optional[Callable[[int, Optional[int]], None]]  # (bytes done, bytes total or None)


class Readable(Protocol):
    """What a layer stream offers its reader: bytes on demand, and an end."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Peekable(Readable, Protocol):
    """A buffered stream: its next bytes can be looked at without consuming them."""

    def peek(self, size: int = 0, /) -> bytes: ...


def _copy_into(b: WriteableBuffer, data: bytes) -> int:
    n = len(data)
    with memoryview(b) as view:
        view[:n] = data
    return n


class HashingReader(io.RawIOBase):
    """Passes reads through while hashing and counting every byte."""

    def __init__(self, raw: Readable):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        readinto: Optional[Callable[[WriteableBuffer], Optional[int]]] = getattr(
            self.raw, "readinto", None)
        if readinto is not None:  # straight into the caller's buffer: one copy fewer
            n = readinto(b) or 0
            if n:
                with memoryview(b) as view:
                    self.sha.update(view[:n])
                self.count += n
            return n
        with memoryview(b) as view:
            data = self.raw.read(len(view))
        if not data:
            return 0
        self.sha.update(data)
        self.count += len(data)
        return _copy_into(b, data)

    def read(self, n: Optional[int] = -1) -> bytes:
        data = self.raw.read() if n is None or n < 0 else self.raw.read(n)
        self.sha.update(data)
        self.count += len(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a file and reports them, for progress."""

    def __init__(self, raw: Readable, progress: Progress, total: Optional[int]):
        self.raw, self.progress, self.total, self.done, self._last = raw, progress, total, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            data = self.raw.read(len(view))
        n = _copy_into(b, data)
        self.done += n
        if self.progress and (self.done - self._last >= (4 << 20) or n == 0):
            self._last = self.done
            self.progress(self.done, self.total)
        return n


class RangeReader(io.RawIOBase):
    """Bytes [offset, offset + size) of a file: one archive member, read by a worker."""

    def __init__(self, f: io.BufferedReader, offset: int, size: int):
        self.f, self.left = f, size
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        if not self.left:
            return 0
        with memoryview(b) as view:
            n = self.f.readinto(view[:min(len(view), self.left)])
        self.left -= n
        return n


class IterStream(io.RawIOBase):
    """A file over an iterator of byte chunks (the engine's save stream)."""

    def __init__(self, chunks: Iterable[bytes], on_close: Optional[Callable[[], object]] = None):
        self._it = iter(chunks)
        self._buf = b""
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        with memoryview(b) as view:
            n = min(len(view), len(self._buf))
            view[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
        super().close()


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


def decompressed(raw: BinaryIO, kind: str) -> Readable:
    """The uncompressed bytes of a blob that `sniff` called `kind`."""
    if kind == "gzip":
        import gzip
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


def uncompressed(raw: ByteFile) -> Readable:
    """A blob stored as its first bytes say, uncompressed as it streams."""
    buffered = io.BufferedReader(raw, CHUNK)
    return decompressed(buffered, sniff(buffered.peek(512)[:512]))


def is_zstd_error(e: BaseException) -> bool:
    # zstandard raises its own error type, which it does not export in a stable place
    return type(e).__module__.startswith("zstandard")

