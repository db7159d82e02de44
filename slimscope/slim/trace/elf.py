"""The ELF closure of a file: its program interpreter and the libraries its DT_NEEDED
entries name, found as the image's own dynamic loader would find them (pyelftools
reads the headers; the search order is glibc's: DT_RPATH when there is no
DT_RUNPATH, LD_LIBRARY_PATH, DT_RUNPATH, the ld.so.conf directories, the defaults).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from slimscope.index.records import parent_of

DEFAULT_DIRS = {32: ["/lib", "/usr/lib"], 64: ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]}


@dataclass
class Dynamic:
    elfclass: int
    machine: str
    interp: str | None
    needed: list
    rpath: list
    runpath: list


def read_dynamic(f) -> Dynamic | None:
    """What an ELF file asks of the loader, or None when f is not an ELF file."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSegment
    from elftools.elf.elffile import ELFFile
    from elftools.elf.segments import InterpSegment

    if f.read(4) != b"\x7fELF":
        return None
    f.seek(0)
    try:
        elf = ELFFile(f)
        interp, needed, rpath, runpath = None, [], [], []
        # pyelftools makes a PT_INTERP segment an InterpSegment, PT_DYNAMIC a DynamicSegment
        for seg in elf.iter_segments():
            if isinstance(seg, InterpSegment):
                interp = seg.get_interp_name()
            elif isinstance(seg, DynamicSegment):
                for tag in seg.iter_tags():
                    d_tag = tag.entry.d_tag
                    if d_tag not in ("DT_NEEDED", "DT_RPATH", "DT_RUNPATH"):
                        continue
                    # pyelftools keeps the tag's string as an attribute it names after the
                    # tag (needed, rpath, runpath), set at run time
                    value: str = getattr(tag, d_tag[3:].lower())
                    if d_tag == "DT_NEEDED":
                        needed.append(value)
                    elif d_tag == "DT_RPATH":
                        rpath += [d for d in value.split(":") if d]
                    else:
                        runpath += [d for d in value.split(":") if d]
        return Dynamic(elf.elfclass, elf["e_machine"], interp, needed, rpath, runpath)
    except (ELFError, ValueError, KeyError, OSError, EOFError, UnicodeDecodeError):
        return None


def ld_so_conf(view) -> list:
    """The library directories /etc/ld.so.conf names, includes followed."""
    dirs: list = []
    seen: set = set()

    def read(path):
        if path in seen:
            return
        seen.add(path)
        for line in view.text(path).splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include"):
                for pattern in line.split()[1:]:
                    if not pattern.startswith("/"):
                        pattern = parent_of(path).rstrip("/") + "/" + pattern
                    for p in view.tree.children(parent_of(pattern)):
                        if fnmatch.fnmatchcase(p, pattern):
                            read(p)
            elif line.startswith("/"):
                dirs.append(line.rstrip("/") or "/")
    read("/etc/ld.so.conf")
    return dirs


class Closure:
    """Follows interpreters and DT_NEEDED through the image; `found` maps each path kept
    for the closure (libraries and the symlinks leading to them) to the file needing it."""

    def __init__(self, view, env: list | None):
        self.view, self.tree = view, view.tree
        self.conf = ld_so_conf(view)
        self.ld_path = []
        for item in env or []:
            key, _, value = item.partition("=")
            if key == "LD_LIBRARY_PATH":
                self.ld_path = [d for d in value.split(":") if d.startswith("/")]
        self.found: dict = {}
        self.missing: list = []      # (file, library it needs that the image lacks)
        self._dyn: dict = {}

    def dynamic(self, path: str):
        if path not in self._dyn:
            f = self.view.open(path)
            if f is None:
                self._dyn[path] = None
            else:
                with f:
                    self._dyn[path] = read_dynamic(f)
        return self._dyn[path]

    def _origin(self, dirs, path):
        return [d.replace("$ORIGIN", parent_of(path)).replace("${ORIGIN}", parent_of(path))
                for d in dirs]

    def _find(self, name: str, dyn: Dynamic, path: str, exe_rpath: list):
        if "/" in name:
            candidates = [name if name.startswith("/") else parent_of(path) + "/" + name]
        else:
            dirs = []
            if not dyn.runpath:
                dirs += self._origin(dyn.rpath, path) + exe_rpath
            dirs += self.ld_path + self._origin(dyn.runpath, path) + self.conf
            dirs += DEFAULT_DIRS.get(dyn.elfclass, DEFAULT_DIRS[64])
            candidates = [d.rstrip("/") + "/" + name for d in dirs]
        for cand in candidates:
            chain: list = []
            real = self.tree.resolve(cand, chain)
            if real is None or not self.tree.is_file(real):
                continue
            other = self.dynamic(real)
            if other is not None and (other.elfclass, other.machine) != (dyn.elfclass,
                                                                          dyn.machine):
                continue
            return real, chain
        return None, []

    def add(self, roots) -> None:
        """Close over roots (paths of kept regular files)."""
        todo: list[tuple[str, list[str]]] = [(p, []) for p in roots]
        done = set()
        while todo:
            path, exe_rpath = todo.pop()
            if path in done:
                continue
            done.add(path)
            dyn = self.dynamic(path)
            if dyn is None:
                continue
            wants = ([dyn.interp] if dyn.interp else []) + dyn.needed
            rpath = exe_rpath or self._origin(dyn.rpath, path)
            for name in wants:
                real, chain = self._find(name, dyn, path, rpath)
                if real is None:
                    self.missing.append((path, name))
                    continue
                for p in chain + [real]:
                    self.found.setdefault(p, path)
                todo.append((real, rpath))
