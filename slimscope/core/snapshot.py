"""A comparable picture of a filesystem: path -> (type, size, mode, uid, gid, link).

Both sides of every ground-truth comparison go through here: the tree the
analyzer composes, and a tar stream such as `docker export` writes. Hardlinks are
folded into plain files with their body's size, since which name a tar writer
stores as the body and which as the link depends only on walk order.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis

# What the engine adds to every container; never part of the image.
ENGINE_PATHS = ("/.dockerenv", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab")
ENGINE_TREES = ("/dev", "/proc", "/sys")

# path -> (type, size, mode, uid, gid, link)
Snapshot = dict[str, tuple[str, int, int, int, int, Optional[str]]]


def engine_added(path: str) -> bool:
    if path in ENGINE_PATHS:
        return True
    return any(path == t or path.startswith(t + "/") for t in ENGINE_TREES)


def _tar_type(ti: tarfile.TarInfo) -> str:
    if ti.isreg():
        return "file"
    if ti.isdir():
        return "dir"
    if ti.issym():
        return "symlink"
    if ti.islnk():
        return "hardlink"
    if ti.ischr():
        return "char"
    if ti.isblk():
        return "block"
    if ti.isfifo():
        return "fifo"
    return "other"


def norm(path: str) -> str:
    path = path.lstrip("/")
    while path.startswith("./"):
        path = path[2:]
    path = path.rstrip("/")
    return "/" + path if path not in ("", ".") else "/"


def from_tar(fileobj: IO[bytes], drop_engine_paths: bool = True) -> Snapshot:
    """Read a tar stream (e.g. `docker export`) into a snapshot."""
    snap: Snapshot = {}
    links: list[tuple[str, str]] = []
    with tarfile.open(fileobj=fileobj, mode="r|*") as tf:
        for ti in tf:
            path = norm(ti.name)
            if path == "/" or (drop_engine_paths and engine_added(path)):
                continue
            kind = _tar_type(ti)
            link = ti.linkname if kind == "symlink" else None
            if kind == "hardlink":
                links.append((path, norm(ti.linkname)))
                snap[path] = ("file", 0, ti.mode & 0o7777, ti.uid, ti.gid, None)
                continue
            size = ti.size if kind == "file" else 0
            snap[path] = (kind, size, ti.mode & 0o7777, ti.uid, ti.gid, link)
    for path, target in links:
        body = snap.get(target)
        if body is not None:
            snap[path] = ("file", body[1], body[2], body[3], body[4], None)
    return snap


def diff(expected: Snapshot, actual: Snapshot, ignore: Iterable[str] = ()) -> list[str]:
    """Human-readable differences, one line each; empty when the trees match."""
    skip = set(ignore)
    out = []
    for path in sorted(set(expected) | set(actual)):
        if path in skip:
            continue
        a, b = expected.get(path), actual.get(path)
        if a == b:
            continue
        if a is None:
            out.append(f"{path}: unexpected {b}")
        elif b is None:
            out.append(f"{path}: missing (expected {a})")
        else:
            out.append(f"{path}: expected {a}, got {b}")
    return out


def from_analysis(analysis: Analysis, drop_engine_paths: bool = True) -> Snapshot:
    """The analyzer's final filesystem in the same form as from_tar()."""
    snap: Snapshot = {}
    for rec in analysis.files(digests=False):
        if drop_engine_paths and engine_added(rec.path):
            continue
        kind = rec.type
        if kind == "hardlink":
            kind = "file"
        snap[rec.path] = (kind, rec.size if kind == "file" else 0, rec.mode, rec.uid,
                          rec.gid, rec.link if kind == "symlink" else None)
    return snap
