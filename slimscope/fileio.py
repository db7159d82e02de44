"""Writing the user's files safely: a temporary name in the same directory, then a rename."""

from __future__ import annotations

import os
import tempfile

from slimscope.errors import BadInput


def write_atomic(path: str, data: bytes, force: bool = True) -> None:
    if not force and os.path.exists(path):
        raise BadInput(f"{path} exists; pass --force to replace it")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".slimscope-", dir=directory)
    except OSError as e:
        raise BadInput(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
