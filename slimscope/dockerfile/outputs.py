"""What the runtime stage copies from the builder: the paths the build produced (as the
image measured them, or as the Dockerfile names them), and whether the program is a
static ELF that can run FROM scratch."""

from __future__ import annotations

import posixpath
import struct
import tarfile
from typing import Optional

from slimscope.catalog import BUILD_LEFTOVERS, GROUPS, SYSTEM_PREFIXES
from slimscope.core.compose import ADDED, MODIFIED, unpack
from slimscope.dockerfile.stages import Planned
from slimscope.index.records import DIR, FILE, HARDLINK, SYMLINK

TMP_DIRS = GROUPS["tmp"].dirs


def _under_any(p: str, roots) -> bool:
    return any(p == e or p.startswith(e + "/") for e in roots)


def measured_outputs(analysis, layers: list, explicit: list) -> list:
    """Paths the build layers left in the final filesystem, collapsed to the top-most
    directories they created; toolchain and cache places left out."""
    composed = analysis.composed
    added_dirs = set()
    files = []
    for li in layers:
        idx = composed.layers[li]
        status = composed.status[li]
        for i in range(len(idx)):
            path = idx.paths[i]
            kind = idx.kinds[i]
            if kind == DIR and status[i] == ADDED:
                added_dirs.add(path)
            if kind in (FILE, HARDLINK, SYMLINK) and status[i] in (ADDED, MODIFIED) \
                    and composed.final.get(path) == (li << 32 | i):
                files.append(path)
    keep = []
    for p in files:
        if p.startswith(BUILD_LEFTOVERS) and not _under_any(p, explicit):
            continue
        if p.startswith(SYSTEM_PREFIXES) and not _under_any(p, explicit):
            continue
        root = p
        parent = posixpath.dirname(p)
        while parent in added_dirs and parent != "/":
            root, parent = parent, posixpath.dirname(parent)
        keep.append(root)
    return top_level(keep)


def top_level(paths) -> list:
    out: list = []
    for p in sorted(set(paths)):
        if not any(p.startswith(o.rstrip("/") + "/") for o in out):
            out.append(p)
    return out


def _inside(p: str, roots) -> bool:
    return any(p == c or p.startswith(c.rstrip("/") + "/") for c in roots)


def copies(analysis, measure, build_steps: list[Planned], entry: list, notes: list) -> list:
    """The paths COPY --from=builder brings into the runtime stage."""
    explicit = top_level(p for s in build_steps for p in s.run.outputs if s.kind != "fetch")
    measured = None
    if analysis is not None and measure.paired:
        layers = [measure.layer(s.ins) for s in build_steps if measure.layer(s.ins) is not None]
        if layers:
            measured = measured_outputs(analysis, layers, explicit + entry)
    if measured:
        return measured
    found = list(explicit)
    for s in build_steps:
        if s.kind == "build" and not s.run.outputs and s.workdir != "/":
            found.append(s.workdir)
    for p in entry:
        if not _inside(p, found) and any(p.startswith(s.workdir.rstrip("/") + "/")
                                         for s in build_steps):
            found.append(p)
    found = top_level(c for c in found if not c.startswith(TMP_DIRS))
    if not found:
        notes.append("could not tell what the build produces; copying the build directories")
        found = top_level(s.workdir for s in build_steps if s.workdir != "/") or ["/usr/local"]
    return found


def read_heads(analysis, paths: set, n: int = 8192) -> dict:
    """The first `n` bytes of each final path (files only), read from the layers."""
    want: dict = {}
    for p in paths:
        ref = analysis.composed.final.get(p)
        if ref is None:
            continue
        li, i = unpack(ref)
        want.setdefault(li, set()).add(p)
    out: dict = {}
    if not want:
        return out
    for positions, stream in analysis.image.source.layer_streams(analysis.image):
        names = set().union(*(want.get(p, set()) for p in positions))
        if not names:
            continue
        with tarfile.open(fileobj=stream, mode="r|") as tf:
            for m in tf:
                name = "/" + m.name.lstrip("./").lstrip("/")
                if name in names and m.isreg():
                    f = tf.extractfile(m)
                    out[name] = f.read(n) if f else b""
    return out


def elf_static(head: bytes) -> Optional[bool]:
    """True for a static ELF, False for a dynamic one, None when not ELF."""
    if head[:4] != b"\x7fELF" or len(head) < 64:
        return None
    is64 = head[4] == 2
    end = "<" if head[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(end + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(end + "I", head, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x2A)
    for k in range(phnum):
        off = phoff + k * phentsize
        if off + 4 > len(head):
            return False   # cannot see all headers: assume dynamic
        ptype, = struct.unpack_from(end + "I", head, off)
        if ptype == 3:     # PT_INTERP
            return False
    return True


def static_verdict(analysis, found: list, entry: list, build_steps: list[Planned],
                   steps: list[Planned]) -> bool:
    """True when the runtime can be FROM scratch: the program is a static ELF."""
    cmd = [s.ins for s in steps if s.ins.cmd in ("CMD", "ENTRYPOINT")]
    if not cmd or any(i.json_form is None for i in cmd) or not entry:
        return False
    if not all(_inside(p, found) for p in entry[:1]):
        return False
    if analysis is not None:
        heads = read_heads(analysis, set(entry[:1]))
        verdicts = [elf_static(h) for h in heads.values()]
        return bool(verdicts) and all(v is True for v in verdicts)
    return all(s.run.static for s in build_steps if s.kind == "build")
