"""Writing the user's files safely.

A regular file is written under a temporary name in its directory, then renamed over
the old one, so a reader never sees half a report. What is not a regular file is
never renamed over: a character device or FIFO (`/dev/stdout`, `/dev/null`, a pipe)
is written through, and a symlink is followed, so the link stays and its target
gets the new content.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import IO

from slimscope import stale
from slimscope.errors import BadInput


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _why(e: OSError) -> str:
    return e.strerror or errno.errorcode.get(e.errno or 0, str(e))


def write_atomic(path: str, data: bytes, force: bool = True) -> None:
    """Write `data` to `path`; an existing file is replaced only with `force`."""
    write_atomic_with(path, lambda f: f.write(data), force)


def write_atomic_with(path: str, produce: Callable[[IO[bytes]], object],
                      force: bool = True) -> None:
    """As write_atomic, with the bytes written by `produce` into the open file as they
    are made: a long report is never held whole."""
    if not path:
        raise BadInput("the output path is empty")
    if path.endswith(os.sep) or os.path.isdir(path):
        raise BadInput(f"cannot write {path}: it is a directory")
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise BadInput(f"cannot write {path}: {_why(e)}") from None
    if st is not None:
        if not force:
            raise BadInput(f"{path} exists; pass --force to replace it")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            _write_through(path, target, produce)
            return
        if not stat.S_ISREG(st.st_mode):
            raise BadInput(f"cannot write {path}: it is not a regular file")
    _replace(path, target, produce, st, force)


def _write_through(path: str, target: str, produce: Callable[[IO[bytes]], object]) -> None:
    try:
        with open(target, "wb") as f:
            produce(f)
    except OSError as e:
        raise BadInput(f"cannot write {path}: {_why(e)}") from None


def _replace(path: str, target: str, produce: Callable[[IO[bytes]], object],
             old: os.stat_result | None, force: bool) -> None:
    directory = os.path.dirname(os.path.abspath(target))
    try:
        stale.sweep(directory)
        fd, tmp = stale.mkstemp("out", directory)
    except OSError as e:
        raise BadInput(f"cannot write {path}: {_why(e)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            produce(f)
        # as any tool that writes a file: the old file's mode, else what the umask allows
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old else 0o666 & ~_umask())
        if force:
            os.replace(tmp, target)
        else:
            _commit_new(tmp, target, path)
    except OSError as e:
        _unlink(tmp)
        raise BadInput(f"cannot write {path}: {_why(e)}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _commit_new(tmp: str, target: str, path: str) -> None:
    """Give tmp the name target only if nothing has it yet: a link fails where a
    rename would silently replace what another run wrote meanwhile."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise BadInput(f"{path} exists; pass --force to replace it") from None
    finally:
        _unlink(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
