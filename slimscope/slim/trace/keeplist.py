"""The keep list: the paths a traced slim kept, one per line with its reason, so that a
later run (`--keep-from FILE`) keeps the same without tracing.

    # slimscope keep list v1
    # image: myapp:1.2 (sha256:...)
    traced<TAB>/usr/bin/app
    elf<TAB>/usr/lib/x86_64-linux-gnu/libc.so.6

Zero-byte entries are not listed (every run keeps them). Backslash, tab and newline
in a path are written as \\\\, \\t and \\n.
"""

from __future__ import annotations

import os

from slimscope import stale
from slimscope.errors import BadInput

HEADER = "# slimscope keep list v1"
_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n"}
_UNESC = {"\\": "\\", "t": "\t", "n": "\n"}


def _escape(path: str) -> str:
    return "".join(_ESC.get(c, c) for c in path)


def _unescape(text: str, where: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in _UNESC:
                raise BadInput(f"{where}: a backslash must be followed by \\, t or n")
            out.append(_UNESC[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def render(kept, image_ref: str, image_id: str) -> str:
    lines = [HEADER, f"# image: {image_ref} ({image_id})"]
    for path in sorted(kept.reasons):
        reason = kept.reasons[path]
        if reason in ("zero-byte", "base"):
            continue
        lines.append(f"{reason}\t{_escape(path)}")
    return "\n".join(lines) + "\n"


def write(path: str, text: str, force: bool) -> None:
    """Write atomically next to path; an existing file needs force."""
    if os.path.lexists(path) and not force:
        raise BadInput(f"{path} exists; pass --force to replace it")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = stale.mkstemp("keep", parent)
    except OSError as e:
        raise BadInput(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read(path: str) -> list:
    """The paths a keep list names."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as e:
        raise BadInput(f"--keep-from {path}: {e.strerror}") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise BadInput(f"--keep-from {path}: not a slimscope keep list (first line should be "
                       f"{HEADER!r})")
    out = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        _reason, sep, rest = line.partition("\t")
        raw = rest if sep else line
        p = _unescape(raw, f"--keep-from {path}:{n}")
        if not p.startswith("/"):
            raise BadInput(f"--keep-from {path}:{n}: {p!r} is not an absolute path")
        out.append(p)
    return out
