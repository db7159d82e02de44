"""The explorer's file model: every view of every layer, from one columnar table.

No tarball is read again. Two views per layer:

* ``changes``: the entries of that layer's LayerIndex with the status the composer
  gave them (added, modified, metadata-only, unchanged, deleted, opaque).
* ``image``: the filesystem as composed through that layer, plus the layer's
  whiteouts as "ghost" rows.

A whiteout row shows the bytes it still costs: the size of the lower content
units it hides (they stay stored in the lower layer).

How it stays fast on images of hundreds of thousands of files: the table (the
core's HistoryTable, slimscope/core/paths.py) holds every entry of every layer
once, and every path (with the directories the tars only imply) once, sorted. The
composer records for each entry the layers whose
tree shows it (``Composed.ends``), so a view is a choice of at most one entry per
path made by a few numpy passes over the table, never a Python loop per entry.
A directory's contents sort as one run of paths (everything under ``D`` lies
between ``D/`` and ``D0``), so its total is a difference of two prefix sums.
`Entry` objects are made only for the rows the tree asks for. This module does
not import Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Optional

import numpy as np

from slimscope.core.compose import ADDED, DELETED, METADATA, MODIFIED, OPAQUED, UNCHANGED, unpack
from slimscope.core.paths import HistoryTable
from slimscope.index.records import DIR, FILE, HARDLINK, KIND_NAMES, OPAQUE, WHITEOUT, parent_of
from slimscope.tui.filters import Lines, path_filter

# A row of the image view that a lower layer put there and this layer left alone.
INHERITED = 6
STATUS_LABELS = ("added", "modified", "metadata-only", "unchanged", "deleted", "opaque",
                 "from a lower layer")
MARKERS = ("+", "~", "≈", " ", "-", "⊘", " ")
IMPLIED = -1  # a parent directory the layer tar does not list

CHANGES, IMAGE = "changes", "image"
_DIR_KINDS = (DIR, IMPLIED, OPAQUE)


class Entry:
    """One row: a path in one view."""

    __slots__ = ("kind", "size", "status", "ref", "hides", "counted")

    def __init__(self, kind: int, size: int, status: int, ref: int, hides: int = 0,
                 counted: bool = True):
        self.kind = kind        # layerindex kind, or IMPLIED
        self.size = size        # bytes of the content unit this row adds to the view
        self.status = status
        self.ref = ref          # packed layer<<32|entry, or -1 for implied dirs
        self.hides = hides      # for whiteouts/opaque dirs: bytes of lower units it hides
        self.counted = counted  # whether `size`/`hides` count in the parents' totals

    @property
    def is_dir(self) -> bool:
        return self.kind in _DIR_KINDS

    @property
    def kind_name(self) -> str:
        return "dir" if self.kind == IMPLIED else KIND_NAMES[self.kind]


# -- the table ------------------------------------------------------------------
class Table(HistoryTable):
    """The core's table of the image's history, with the path texts a filter scans."""

    def __init__(self, composed):
        super().__init__(composed)
        self._lines: dict = {}

    def lines(self, which: str) -> Lines:
        """The paths ("paths"), lower-cased ("lower") or their last names ("names"), as
        Lines, made on first use (a filter is the only user) and kept."""
        got = self._lines.get(which)
        if got is None:
            if which == "paths":
                got = Lines(self.paths)
            elif which == "lower":
                got = Lines(list(map(str.lower, self.paths)))
            else:
                got = Lines(list(map(itemgetter(2), map(str.rpartition, self.paths,
                                                        repeat("/")))))
            self._lines[which] = got
        return got


# -- views ----------------------------------------------------------------------
class View:
    """One (layer, mode): which entry each path shows, and the rows' own bytes."""

    def __init__(self, model: ImageModel, layer: int, mode: str):
        t = model.table
        self.model = model
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
        self.hides: dict = {}       # group -> bytes of lower units its whiteout hides
        self.ghosts: dict = {}      # group -> (kind, status, candidate): marks with no entry
        self.opaqued: set = set()   # groups whose entry this layer's opaque marker emptied
        costs = model.whiteout_costs[layer]
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
            self._promote_hardlinks(cands, size)
        self.size = size
        present = sel >= 0
        if self.ghosts:
            present[list(self.ghosts)] = True
        self.present = present
        # a directory the view has no entry for still shows when something under it does
        self.exists = present | t.has_under(present)
        self.exists[0] = True
        self.rows = Rows(self)
        self.full = Shown(self, self.exists, count_hidden=False)

    def _promote_hardlinks(self, cands: np.ndarray, size: np.ndarray) -> None:
        """A body whose file name is gone stays visible (and counted) through a hardlink."""
        t = self.table
        links = cands[t.c_kind[cands] == HARDLINK]
        if not len(links):
            return
        units = self.model.composed.hardlink_unit
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


def _under_kept_dirs(t: Table, keep: np.ndarray, dirlike: np.ndarray) -> np.ndarray:
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


class Rows(Mapping):
    """path -> Entry for every row of a view, made when asked for."""

    def __init__(self, view: View):
        self.view = view

    def __getitem__(self, path: str) -> Entry:
        g = self.view.table.group.get(path)
        if g is None or not self.view.exists[g]:
            raise KeyError(path)
        return self.view.entry(g)

    def __contains__(self, path) -> bool:
        g = self.view.table.group.get(path)
        return g is not None and bool(self.view.exists[g])

    def __iter__(self):
        paths = self.view.table.paths
        return (paths[g] for g in np.nonzero(self.view.exists)[0].tolist())

    def __len__(self) -> int:
        return int(self.view.exists.sum())


class Shown:
    """What the tree shows of a view: kept rows, their parents and the totals."""

    def __init__(self, view: View, keep: np.ndarray, count_hidden: bool):
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

    def sorted_children(self, path: str, by_size: bool = True) -> list:
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


class Children(Mapping):
    """dir path -> its shown children (path order), for the dirs that have any."""

    def __init__(self, shown: Shown):
        self.shown = shown

    def __getitem__(self, path: str) -> list:
        t = self.shown.table
        g = t.group.get(path)
        kids = self.shown.kids(g) if g is not None and self.shown.on[g] else ()
        if not len(kids):
            raise KeyError(path)
        return [t.paths[k] for k in kids.tolist()]

    def __contains__(self, path) -> bool:
        t = self.shown.table
        g = t.group.get(path)
        return g is not None and bool(self.shown.on[g]) and bool(len(self.shown.kids(g)))

    def __iter__(self):
        t = self.shown.table
        on = np.nonzero(self.shown.on)[0]
        return (t.paths[g] for g in np.unique(t.parent[on[on > 0]]).tolist())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Totals(Mapping):
    """path -> bytes (own for files, aggregate for dirs) of the shown rows."""

    def __init__(self, shown: Shown):
        self.shown = shown

    def __getitem__(self, path: str) -> int:
        g = self.shown.table.group.get(path)
        if g is None or not self.shown.on[g]:
            raise KeyError(path)
        return self.shown.total_of(g)

    def __iter__(self):
        t = self.shown.table
        return (t.paths[g] for g in np.nonzero(self.shown.on)[0].tolist())

    def __len__(self) -> int:
        return int(self.shown.on.sum())


@dataclass
class Touch:
    """One layer's word on a path, for the details pane."""

    layer: int
    what: str       # a status label, or "removed with DIR" / "emptied DIR"
    kind: str
    size: int


class ImageModel:
    """Views of an Analysis, computed on demand and cached."""

    VIEWS = 12      # views kept
    FILTERS = 4     # filter masks kept

    def __init__(self, analysis):
        self.analysis = analysis
        self.composed = analysis.composed
        self.indexes = [l.index for l in analysis.image.layers]
        self.n = len(self.indexes)
        self.table = Table(self.composed)
        self._views: dict = {}
        self._masks: dict = {}
        self._lock = threading.Lock()
        self.wasted_units = {w.unit for w in analysis.waste}
        t = self.table
        self.c_wasted = np.zeros(len(t.c_group), bool)
        if self.wasted_units:
            self.c_wasted[[t.candidate(u) for u in self.wasted_units]] = True
        self.whiteout_costs = self._whiteout_costs()
        self._gone = [None] * self.n   # per layer: whiteout paths, opaque dirs

    # -- whiteouts -------------------------------------------------------------
    def _whiteout_costs(self) -> list:
        """Per layer: whiteout/opaque path -> bytes of the lower units it hides."""
        t = self.table
        roots = [{t.paths[g] for g, _, _ in marks} for marks in t.marks]
        costs = [dict() for _ in self.indexes]
        hidden = self.composed.hidden
        for w in self.analysis.waste:
            if w.reason not in ("deleted", "opaque"):
                continue
            h = hidden.get(w.unit)
            p = h.path if h is not None and h.path else w.path
            mine = roots[w.hidden_by]
            a = p
            while True:
                if a in mine:
                    costs[w.hidden_by][a] = costs[w.hidden_by].get(a, 0) + w.bytes
                    break
                if a == "/":
                    break
                a = parent_of(a)
        return costs

    def whiteouts(self, layer: int) -> tuple:
        if self._gone[layer] is None:
            t = self.table
            wh = {t.paths[g] for g, k, _ in t.marks[layer] if k == WHITEOUT}
            opq = {t.paths[g] for g, k, _ in t.marks[layer] if k == OPAQUE}
            self._gone[layer] = (wh, opq)
        return self._gone[layer]

    # -- views -----------------------------------------------------------------
    def view(self, layer: int, mode: str) -> View:
        key = (layer, mode)
        with self._lock:
            v = self._views.get(key)
        if v is None:
            v = View(self, layer, mode)
            with self._lock:
                self._views[key] = v
                while len(self._views) > self.VIEWS:   # keep memory bounded
                    self._views.pop(next(iter(self._views)))
        return v

    def path_mask(self, text: str) -> Optional[np.ndarray]:
        """Which paths of the table the filter text matches (the same for every view)."""
        match = path_filter(text)
        if match is None:
            return None
        key = text.strip()
        with self._lock:
            m = self._masks.get(key)
        if m is None:
            m = match(self.table)
            with self._lock:
                self._masks[key] = m
                while len(self._masks) > self.FILTERS:
                    self._masks.pop(next(iter(self._masks)))
        return m

    def shown(self, layer: int, mode: str, text: str = "", hide_unchanged: bool = False,
              waste_only: bool = False) -> Shown:
        """The rows the filter text and the two toggles keep, with their parents.

        With no toggle on, a kept directory keeps its contents; with one on, a kept
        directory does not drag in its unchanged contents. `waste_only` also counts
        what whiteouts hide in image views."""
        v = self.view(layer, mode)
        match = self.path_mask(text)
        if match is None and not hide_unchanged and not waste_only:
            return v.full
        t = self.table
        keep = v.exists.copy()
        keep[0] = False   # the root row is never a match of its own
        if match is not None:
            keep &= match
        if hide_unchanged or waste_only:
            st = v.statuses()
            if hide_unchanged:
                keep &= v.present & (st != UNCHANGED) & (st != INHERITED)
            if waste_only:
                keep &= self._wasteful(v, st)
        elif keep.any():
            keep |= v.exists & _under_kept_dirs(t, keep, v.dirlike())
        return Shown(v, keep, count_hidden=waste_only)

    def _wasteful(self, v: View, st: np.ndarray) -> np.ndarray:
        """Rows that are waste: stored bodies the final image hides, or whiteouts that hide some."""
        t = self.table
        sel = v.sel
        have = sel >= 0
        out = np.zeros(len(sel), bool)
        c = sel[have]
        out[have] = (t.c_kind[c] == FILE) & self.c_wasted[c]
        deleted = (st == DELETED) | (st == OPAQUED)
        out &= ~deleted
        for g in np.nonzero(deleted)[0].tolist():
            out[g] = v.hides.get(g, 0) > 0
        return out

    # -- details ---------------------------------------------------------------
    def history(self, path: str) -> list:
        """Every layer that touched `path`: stored it, restated it, deleted it or a parent."""
        t = self.table
        out = []
        g = t.group.get(path)
        mine = np.nonzero(t.c_group == g)[0].tolist() if g is not None else []
        by_layer: dict = {}
        for c in mine:
            by_layer.setdefault(int(t.c_layer[c]), []).append(c)
        for li in range(self.n):
            for c in by_layer.get(li, ()):
                k = int(t.c_kind[c])
                out.append(Touch(li, STATUS_LABELS[t.c_status[c]], KIND_NAMES[k],
                                 int(t.c_size[c])))
            wh, opq = self.whiteouts(li)
            if wh or opq:
                a = path
                while a != "/":
                    a = parent_of(a)
                    if a in wh:
                        out.append(Touch(li, f"removed with {a}", "whiteout", 0))
                        break
                    if a in opq:
                        out.append(Touch(li, f"hidden: {a} was emptied", "opaque", 0))
                        break
        return out

    def added_in(self, path: str, upto: Optional[int] = None) -> Optional[int]:
        """The last layer (up to `upto`) where `path` was added."""
        last = None
        for t in self.history(path):
            if upto is not None and t.layer > upto:
                break
            if t.what == "added":
                last = t.layer
        return last

    def record(self, view: View, path: str) -> dict:
        """Everything the details pane shows of one row."""
        e = view.rows[path]
        rec = {"path": path, "type": e.kind_name, "status": STATUS_LABELS[e.status],
               "size": e.size, "hides": e.hides, "mode": None, "uid": None, "gid": None,
               "link": None, "digest": None, "layer": None}
        if e.ref >= 0:
            li, i = unpack(e.ref)
            idx = self.indexes[li]
            rec["layer"] = li
            if e.kind not in (WHITEOUT, OPAQUE):
                rec.update(mode=idx.modes[i], uid=idx.uids[i], gid=idx.gids[i],
                           link=idx.links.get(i), mtime=idx.mtimes[i])
            d = idx.digest(i) if e.kind == FILE else None
            if e.kind == HARDLINK:
                unit = self.composed.hardlink_unit.get(e.ref)
                if unit is not None:
                    ul, ui = unpack(unit)
                    d = self.indexes[ul].digest(ui)
                    rec["size"] = self.indexes[ul].sizes[ui]
            rec["digest"] = ("sha256:" + d.hex()) if d else None
            if e.kind == FILE:
                rec["wasted"] = e.ref in self.wasted_units
        return rec

    def waste_for(self, unit: int):
        for w in self.analysis.waste:
            if w.unit == unit:
                return w
        return None


__all__ = ["ImageModel", "View", "Shown", "Entry", "Touch", "CHANGES", "IMAGE", "INHERITED",
           "STATUS_LABELS", "MARKERS", "IMPLIED", "ADDED",
           "MODIFIED", "METADATA", "UNCHANGED", "DELETED", "OPAQUED"]
