"""One view of the explorer: a layer seen in one mode, as a choice of at most one
entry per path of the table.

* ``changes``: the entries of that layer's LayerIndex with the status the composer
  gave them (added, modified, metadata-only, unchanged, deleted, opaque).
* ``image``: the filesystem as composed through that layer, plus the layer's
  whiteouts as "ghost" rows.

A whiteout row shows the bytes it still costs: the size of the lower content
units it hides (they stay stored in the lower layer).

The composer records for each entry the layers whose tree shows it
(``Composed.ends``), so the choice is made by a few numpy passes over the table,
never a Python loop per entry; `Entry` objects are made only for the rows the tree
asks for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from slimscope.core.compose import DELETED, OPAQUED, UNCHANGED
from slimscope.index.records import DIR, HARDLINK, OPAQUE, WHITEOUT
from slimscope.tui.entry import CHANGES, IMAGE, IMPLIED, INHERITED, Entry
from slimscope.tui.table import Table


class View:
    """One (layer, mode): which entry each path shows, and the rows' own bytes.

    `costs` are this layer's whiteout costs (marked path -> bytes of the lower units it
    hides), `hardlink_unit` the composer's hardlink ref -> body ref."""

    def __init__(self, table: Table, layer: int, mode: str, costs: Mapping[str, int],
                 hardlink_unit: Mapping[int, int]) -> None:
        t = table
        self.table = t
        self.layer = layer
        self.mode = mode
        G = len(t.paths)
        sel = np.full(G, -1, np.int32)
        if mode == IMAGE:
            # in the tree composed through `layer`: li <= layer < end (whiteouts never are)
            cands = np.nonzero((t.c_layer <= layer) & (t.c_end > layer))[0]
        else:
            # this layer's entries, but not whiteouts or those its own tar restates later
            s0, s1 = t.starts[layer], t.starts[layer + 1]
            cands = np.nonzero(t.c_end[s0:s1] > layer)[0] + s0
        sel[t.c_group[cands]] = cands
        self.sel = sel
        size = np.zeros(G, np.int64)
        size[t.c_group[cands]] = t.c_size[cands]
        self.hides: dict[int, int] = {}   # group -> bytes of lower units its whiteout hides
        # group -> (kind, status, candidate): marks with no entry
        self.ghosts: dict[int, tuple[int, int, int]] = {}
        self.opaqued: set[int] = set()    # groups whose entry this layer's opaque marker emptied
        for g, kind, c in t.marks[layer]:
            cost = costs.get(t.paths[g], 0)
            if sel[g] >= 0:
                # an entry at the marked path speaks for it; the image view keeps only
                # an opaque marker's word (the directory is emptied, not gone)
                if kind == OPAQUE and (mode == IMAGE or t.c_kind[sel[g]] == DIR):
                    self.opaqued.add(g)
                if kind == OPAQUE or mode == CHANGES:
                    self.hides[g] = self.hides.get(g, 0) + cost
            else:
                self.ghosts[g] = (kind, DELETED if kind == WHITEOUT else OPAQUED, c)
                self.hides[g] = cost
        if mode == IMAGE:
            self._promote_hardlinks(cands, size, hardlink_unit)
        self.size = size
        present = sel >= 0
        if self.ghosts:
            present[list(self.ghosts)] = True
        self.present = present
        # a directory the view has no entry for still shows when something under it does
        self.exists = present | t.has_under(present)
        self.exists[0] = True
        self.rows = Rows(self)

    def _promote_hardlinks(self, cands: np.ndarray, size: np.ndarray,
                           units: Mapping[int, int]) -> None:
        """A body whose file name is gone stays visible (and counted) through a hardlink."""
        t = self.table
        links = cands[t.c_kind[cands] == HARDLINK]
        if not len(links):
            return
        seen = set()
        for c in sorted(links.tolist(), key=lambda c: t.c_group[c]):
            unit = units.get(t.ref(c))
            if unit is None or unit in seen:
                continue
            seen.add(unit)
            u = t.candidate(unit)
            if not (t.c_layer[u] <= self.layer < t.c_end[u]):
                size[t.c_group[c]] = t.c_size[u]

    def entry(self, g: int) -> Entry:
        t = self.table
        c = int(self.sel[g])
        if c >= 0:
            li = int(t.c_layer[c])
            if g in self.opaqued:
                status = OPAQUED
            elif self.mode == IMAGE and li != self.layer:
                status = INHERITED
            else:
                status = int(t.c_status[c])
            return Entry(int(t.c_kind[c]), int(self.size[g]), status, t.ref(c),
                         self.hides.get(g, 0))
        ghost = self.ghosts.get(g)
        if ghost is not None:
            kind, status, c = ghost
            return Entry(kind, 0, status, t.ref(c), self.hides.get(g, 0),
                         counted=self.mode == CHANGES)
        return Entry(IMPLIED, 0, UNCHANGED, -1)

    def statuses(self) -> np.ndarray:
        """Every group's row status (implied rows and paths not in the view: UNCHANGED)."""
        t = self.table
        st = np.full(len(self.sel), UNCHANGED, np.uint8)
        have = np.nonzero(self.sel >= 0)[0]
        c = self.sel[have]
        own = t.c_status[c]
        if self.mode == IMAGE:
            own = np.where(t.c_layer[c] == self.layer, own, INHERITED)
        st[have] = own
        for g in self.opaqued:
            st[g] = OPAQUED
        for g, (_, status, _) in self.ghosts.items():
            st[g] = status
        return st

    def dirlike(self) -> np.ndarray:
        """Per group: is its row a directory (listed, implied or emptied)?"""
        t = self.table
        out = self.exists & ~self.present          # implied
        have = np.nonzero(self.sel >= 0)[0]
        out[have] = t.c_kind[self.sel[have]] == DIR
        for g, (kind, _, _) in self.ghosts.items():
            out[g] = kind == OPAQUE
        return out

    def weights(self, with_hides: bool) -> np.ndarray:
        """Each row's own bytes as it counts in its parents' totals."""
        w = self.size.copy()
        if with_hides:
            for g, h in self.hides.items():
                w[g] += h
        return w


class Rows(Mapping[str, Entry]):
    """path -> Entry for every row of a view, made when asked for."""

    def __init__(self, view: View) -> None:
        self.view = view

    def __getitem__(self, path: str) -> Entry:
        g = self.view.table.group.get(path)
        if g is None or not self.view.exists[g]:
            raise KeyError(path)
        return self.view.entry(g)

    def __contains__(self, path: object) -> bool:
        g = self.view.table.group.get(path) if isinstance(path, str) else None
        return g is not None and bool(self.view.exists[g])

    def __iter__(self) -> Iterator[str]:
        paths = self.view.table.paths
        return (paths[g] for g in np.nonzero(self.view.exists)[0].tolist())

    def __len__(self) -> int:
        return int(self.view.exists.sum())
