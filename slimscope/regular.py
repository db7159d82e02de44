"""Opening a file that someone else put there: only a regular file is ever read.

A FIFO would block the open (or the first read) forever, a device such as
/dev/zero never ends, and a directory or a symlink loop fails in ways that read
as crashes. Each is refused here with one line instead, before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, Optional

from slimscope.errors import BadInput

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "a symlink loop"
    return e.strerror or str(e)


def open_regular_fd(path: str, follow: bool = True) -> int:
    """A descriptor on `path` if it is a regular file; OSError otherwise. Opened
    non-blocking so that a FIFO cannot stall the open; reads block again after."""
    fd = os.open(path, _FLAGS | (0 if follow else os.O_NOFOLLOW))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise OSError(errno.EINVAL, kind)
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_regular(path: str, what: str, inside: Optional[str] = None) -> BinaryIO:
    """`path` opened for reading, or BadInput naming `what` when it is missing, not a
    regular file, or (with `inside`) resolves outside that directory."""
    if inside is not None:
        root = os.path.realpath(inside)
        real = os.path.realpath(path)
        if real != root and not real.startswith(root.rstrip("/") + "/"):
            raise BadInput(f"{what} points outside {inside}")
    try:
        fd = open_regular_fd(path)
    except FileNotFoundError:
        raise BadInput(f"{what} is missing") from None
    except OSError as e:
        raise BadInput(f"{what} cannot be read: {_why(e)}") from None
    return os.fdopen(fd, "rb")


def read_regular(path: str, what: str, limit: int, inside: Optional[str] = None) -> bytes:
    """All of a regular file of at most `limit` bytes, or BadInput."""
    with open_regular(path, what, inside) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BadInput(f"{what} is larger than the {limit} bytes such a file may take")
    return data


def regular_size(path: str) -> Optional[int]:
    """The size of `path` when it is a regular file (no open, so a FIFO cannot stall)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
