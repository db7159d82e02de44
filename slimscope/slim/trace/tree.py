"""The image's final filesystem as a tree to look paths up in, symlinks resolved inside it.

A symlink with an absolute target points inside the image root, never at the
host's; `..` stops at the root. The container runtime resolves the same way.
"""

from __future__ import annotations

import os

from slimscope.core.compose import unpack
from slimscope.index.records import DIR, FILE, HARDLINK, SYMLINK, parent_of

MAX_HOPS = 40    # as the kernel's ELOOP limit


class Tree:
    def __init__(self, analysis):
        self.composed = analysis.composed
        self.final = self.composed.final
        self._children = None

    def kind(self, path: str):
        ref = self.final.get(path)
        return None if ref is None else self.composed.entry_kind(ref)

    def is_file(self, path: str) -> bool:
        return self.kind(path) in (FILE, HARDLINK)

    def size(self, path: str) -> int:
        ref = self.final[path]
        unit = self.composed.unit_of(ref)
        return self.composed.unit_size(unit) if unit is not None else 0

    def layer_of(self, path: str) -> int:
        return self.final[path] >> 32

    def link(self, path: str):
        li, i = unpack(self.final[path])
        return self.composed.layers[li].links.get(i)

    def resolve(self, path: str, chain: list | None = None):
        """The path with every symlink followed (each one passed appended to chain), or None
        when it leads nowhere in the image."""
        todo = [p for p in path.split("/") if p][::-1]
        cur = "/"
        hops = 0
        while todo:
            part = todo.pop()
            if part == ".":
                continue
            if part == "..":
                cur = parent_of(cur)
                continue
            cand = (cur.rstrip("/") + "/" + part)
            kind = self.kind(cand)
            if kind is None:
                return None
            if kind == SYMLINK:
                hops += 1
                if hops > MAX_HOPS:
                    return None
                if chain is not None:
                    chain.append(cand)
                target = self.link(cand) or ""
                if target.startswith("/"):
                    cur = "/"
                todo.extend([p for p in target.split("/") if p][::-1])
                continue
            if todo and kind != DIR:
                return None
            cur = cand
        return cur

    def children(self, directory: str) -> list:
        if self._children is None:
            kids: dict = {}
            for p in self.final:
                if p != "/":
                    kids.setdefault(parent_of(p), []).append(p)
            self._children = kids
        return sorted(self._children.get(directory.rstrip("/") or "/", []))

    def under(self, path: str):
        """path and every path below it."""
        yield path
        for child in self.children(path):
            if self.kind(child) == DIR:
                yield from self.under(child)
            else:
                yield child


class RootView:
    """Reads file bodies of the image from a mounted, never-started container root."""

    def __init__(self, tree: Tree, mounted_root: str):
        self.tree, self.root = tree, mounted_root.rstrip("/")

    def open(self, path: str):
        """A binary file object for the regular file at path (symlinks resolved), or None."""
        real = self.tree.resolve(path)
        if real is None or not self.tree.is_file(real):
            return None
        try:
            fd = os.open(self.root + real, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        return os.fdopen(fd, "rb")

    def text(self, path: str) -> str:
        f = self.open(path)
        if f is None:
            return ""
        with f:
            return f.read(1 << 20).decode("utf-8", "replace")
