"""Byte streams the sources and the layer walk read through.

Each one does one thing to a stream on its way by: hash and count it, report
progress, cut a byte range out of a file, turn an iterator of chunks into a
file, or take away its compression.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO, Optional, Protocol, Union, cast

from slimscope.errors import BadInput

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 256 << 10  # bytes read at a time: 1 MiB cost 3 MiB of peak RSS and no less CPU

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
        import hashlib  # OpenSSL's SHA-NI code, loaded only when a layer is read

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
        self.start, self.size = offset, size
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size - self.left

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        """Within the range only: a position past its end is its end."""
        base = 0 if whence == io.SEEK_SET else self.tell() if whence == io.SEEK_CUR else self.size
        to = max(0, min(base + pos, self.size))
        self.f.seek(self.start + to)
        self.left = self.size - to
        return to

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


# A real layer rarely inflates past 20 times its size; a bomb inflates past 1000.
# These bound how far one may go (each can be raised from the environment, for an
# image with a huge file of zeros), so that a hostile blob ends in seconds.
EXPANSION_ENV = "SLIMSCOPE_MAX_EXPANSION"        # times the compressed bytes read so far
LAYER_BYTES_ENV = "SLIMSCOPE_MAX_LAYER_BYTES"    # uncompressed bytes of one layer
DEFAULT_EXPANSION = 100
DEFAULT_LAYER_BYTES = 256 << 30
EXPANSION_FLOOR = 512 << 20  # a small layer may always inflate this far


def _env_int(name: str, default: int) -> int:
    import os
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"{name} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise BadInput(f"{name} must be positive, not {value}")
    return value


class InflateLimit(BadInput):
    """A compressed stream inflated past its bound (the message says which, and how to
    raise it); the reader that knows which layer it was adds that to the message."""


class _Counted:
    """The compressed side of a decompressor: counts what the decompressor takes."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.count = raw, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        self.raw.close()


class BoundedInflate(io.RawIOBase):
    """A decompressor's output, refused once it outgrows its input by too much."""

    def __init__(self, inner: Readable, source: _Counted, kind: str):
        self.inner, self.source, self.kind, self.count = inner, source, kind, 0
        self.ratio = _env_int(EXPANSION_ENV, DEFAULT_EXPANSION)
        self.cap = _env_int(LAYER_BYTES_ENV, DEFAULT_LAYER_BYTES)

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            data = self.inner.read(len(view))
            n = len(data)
            view[:n] = data
        self.count += n
        if self.count > self.cap:
            raise InflateLimit(f"{self.kind} data inflates past {self.cap} bytes, the limit "
                           f"({LAYER_BYTES_ENV} raises it)")
        if self.count > max(EXPANSION_FLOOR, self.ratio * self.source.count):
            raise InflateLimit(f"{self.kind} data inflates more than {self.ratio} times its "
                           f"compressed size (past {self.count} bytes from "
                           f"{self.source.count}); {EXPANSION_ENV} raises the limit")
        return n

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def decompressed(raw: BinaryIO, kind: str) -> Readable:
    """The uncompressed bytes of a blob that `sniff` called `kind`, bounded (BoundedInflate)."""
    if kind not in ("gzip", "zstd"):
        return raw
    counted = _Counted(raw)
    source = cast(BinaryIO, counted)  # reads like a file, which is all either decompressor asks
    inner: Readable
    if kind == "gzip":
        import gzip
        inner = gzip.GzipFile(fileobj=source, mode="rb")
    else:
        import zstandard
        inner = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    return BoundedInflate(inner, counted, kind)


def uncompressed(raw: ByteFile) -> Readable:
    """A blob stored as its first bytes say, uncompressed as it streams."""
    buffered = io.BufferedReader(raw, CHUNK)
    return decompressed(buffered, sniff(buffered.peek(512)[:512]))


def is_zstd_error(e: BaseException) -> bool:
    # zstandard raises its own error type, which it does not export in a stable place
    return type(e).__module__.startswith("zstandard")

