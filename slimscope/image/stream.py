"""An image archive arriving on a pipe (`-` for stdin, `/dev/stdin`, a FIFO): plain or
gzip `docker save` output, or an OCI archive.

A pipe can be read once. The one pass that indexes the layers also copies the bytes
it reads into an unnamed temporary file (gone when the process ends, even if it is
killed), so that what reads the layers again (slim, compressed sizes, dockerfile)
reads the copy, not the pipe.
"""

from __future__ import annotations

import io
import os
import sys
from typing import IO, TYPE_CHECKING, Optional

from slimscope.errors import BadInput
from slimscope.image.tarstream import TarStreamSource
from slimscope.index.streams import ByteFile

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

STDIN = "-"


class _Tee(io.RawIOBase):
    """Reads the pipe and keeps a copy of every byte read."""

    def __init__(self, pipe: IO[bytes], copy: IO[bytes], owned: bool):
        self._pipe, self._copy, self._owned = pipe, copy, owned

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            n = self._pipe.readinto(view)  # type: ignore[attr-defined]
            if n:
                self._copy.write(view[:n])
        return n or 0

    def close(self) -> None:
        self._copy.flush()
        if self._owned:   # a FIFO we opened; stdin stays the process's
            self._pipe.close()
        super().close()


class _Copy(io.RawIOBase):
    """The copy, read from its start at an offset of its own (pread), so that
    closing this reader leaves the copy open for the next pass."""

    def __init__(self, fd: int):
        self._fd, self._pos = fd, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            data = os.pread(self._fd, len(view), self._pos)
            view[:len(data)] = data
        self._pos += len(data)
        return len(data)


class StreamSource(TarStreamSource):
    """An archive read from a pipe, in one pass."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = "stdin" if path == STDIN else path
        self.reference = reference
        self._copy: Optional[IO[bytes]] = None

    def open_stream(self) -> ByteFile:
        if self._copy is not None:
            return _Copy(self._copy.fileno())
        if self.path == STDIN:
            if sys.stdin is None or sys.stdin.isatty():
                raise BadInput("IMAGE is - (stdin), but stdin is a terminal: pipe an archive "
                               "into it (docker save IMAGE | slimscope ...)")
            pipe: IO[bytes] = sys.stdin.buffer
        else:
            try:
                pipe = open(self.path, "rb", buffering=0)
            except OSError as e:
                raise BadInput(f"cannot read {self.path}: {e.strerror}") from None
        import tempfile  # here: a run that reads no pipe does not load it (and shutil)
        self._copy = tempfile.TemporaryFile(prefix="slimscope-stdin-")
        return _Tee(pipe, self._copy, owned=self.path != STDIN)
