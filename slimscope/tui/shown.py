"""What the file pane shows of a view: the rows a filter keeps, the parents that lead
to them, and every shown row's total.

A directory's contents sort as one run of paths in the table (everything under
``D`` lies between ``D/`` and ``D0``), so its total is a difference of two prefix
sums of the kept rows' own bytes: no walk of the tree, whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from slimscope.tui.entry import CHANGES
from slimscope.tui.table import Table
from slimscope.tui.view import View


def under_kept_dirs(t: Table, keep: np.ndarray, dirlike: np.ndarray) -> np.ndarray:
    """Per group: is it the contents of a kept directory, reached through directories only?

    A kept directory keeps what is under it; a row that is not a directory (a file
    or a whiteout some broken tar put children under) keeps nothing below it, kept
    or not. Decided top-down, one depth at a time: a row takes its parent's word."""
    state = np.zeros(len(keep), np.int8)    # 1: under a kept dir; 0: not
    source = keep & dirlike
    for level in t.levels[1:]:
        p = t.parent[level]
        state[level] = np.where(source[p], 1, np.where(dirlike[p], state[p], 0))
    return state == 1


class Shown:
    """What the tree shows of a view: kept rows, their parents and the totals."""

    def __init__(self, view: View, keep: np.ndarray, count_hidden: bool) -> None:
        t = view.table
        self.view = view
        self.table = t
        self.matched = int(keep.sum())   # rows kept (parents kept only for them not counted)
        # What the status line counts, as the analysis does: rows with a record of their
        # own (paths of the image so far / the layer's entries; not the directories a
        # tar only implies, nor whiteouts), and apart, the layer's whiteouts kept.
        self.entries = int(np.count_nonzero(keep & (view.sel >= 0)))
        self.whiteouts = sum(1 for g, _, _ in t.marks[view.layer] if keep[g])
        w = view.weights(view.mode == CHANGES or count_hidden)
        root = w[0]    # the root's own bytes count whatever the filter keeps
        w[~keep] = 0
        w[0] = root
        self.w = w
        self.sums = np.concatenate([[0], np.cumsum(w)])
        self.on = keep | t.has_under(keep)   # kept, or a parent of something kept
        self.on[0] = True
        self.children = Children(self)
        self.totals = Totals(self)

    @property
    def total(self) -> int:
        return self.total_of(0)

    def total_of(self, g: int) -> int:
        t = self.table
        return int(self.w[g] + self.sums[t.hi[g]] - self.sums[t.lo[g]])

    def kids(self, g: int) -> np.ndarray:
        kids = self.table.kids_of(g)
        return kids[self.on[kids]]

    def sorted_children(self, path: str, by_size: bool = True) -> list[str]:
        t = self.table
        g = t.group.get(path)
        if g is None or not self.on[g]:
            return []
        kids = self.kids(g)       # in path order
        if by_size and len(kids) > 1:
            tot = self.w[kids] + self.sums[t.hi[kids]] - self.sums[t.lo[kids]]
            kids = kids[np.lexsort((kids, -tot))]
        paths = t.paths
        return [paths[k] for k in kids.tolist()]

    def __contains__(self, path: str) -> bool:
        g = self.table.group.get(path)
        return g is not None and bool(self.on[g])


class Children(Mapping[str, list[str]]):
    """dir path -> its shown children (path order), for the dirs that have any."""

    def __init__(self, shown: Shown) -> None:
        self.shown = shown

    def __getitem__(self, path: str) -> list[str]:
        t = self.shown.table
        g = t.group.get(path)
        if g is None or not self.shown.on[g]:
            raise KeyError(path)
        kids = self.shown.kids(g)
        if not len(kids):
            raise KeyError(path)
        return [t.paths[k] for k in kids.tolist()]

    def __contains__(self, path: object) -> bool:
        t = self.shown.table
        g = t.group.get(path) if isinstance(path, str) else None
        return g is not None and bool(self.shown.on[g]) and bool(len(self.shown.kids(g)))

    def __iter__(self) -> Iterator[str]:
        t = self.shown.table
        on = np.nonzero(self.shown.on)[0]
        return (t.paths[g] for g in np.unique(t.parent[on[on > 0]]).tolist())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Totals(Mapping[str, int]):
    """path -> bytes (own for files, aggregate for dirs) of the shown rows."""

    def __init__(self, shown: Shown) -> None:
        self.shown = shown

    def __getitem__(self, path: str) -> int:
        g = self.shown.table.group.get(path)
        if g is None or not self.shown.on[g]:
            raise KeyError(path)
        return self.shown.total_of(g)

    def __iter__(self) -> Iterator[str]:
        t = self.shown.table
        return (t.paths[g] for g in np.nonzero(self.shown.on)[0].tolist())

    def __len__(self) -> int:
        return int(self.shown.on.sum())
