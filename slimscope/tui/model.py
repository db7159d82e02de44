"""The explorer's file model: every view of every layer of an Analysis, from one
columnar table, made on demand and kept.

No tarball is read again. How it stays fast on images of hundreds of thousands of
files: the table (tui/table.py, on the core's HistoryTable) holds every entry of
every layer once and every path (with the directories the tars only imply) once,
sorted; a view (tui/view.py) is a choice of at most one entry per path, and what
the tree shows of it (tui/shown.py) a mask and a prefix sum. This module keeps
those, answers the filters and toggles with them, and says what the details pane
shows of one path. It does not import Textual.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from slimscope.core.compose import unpack
from slimscope.core.records import WasteItem
from slimscope.index.records import FILE, HARDLINK, KIND_NAMES, OPAQUE, WHITEOUT, parent_of
from slimscope.tui.entry import (
    ADDED,
    CHANGES,
    DELETED,
    IMAGE,
    IMPLIED,
    INHERITED,
    MARKERS,
    METADATA,
    MODIFIED,
    OPAQUED,
    STATUS_LABELS,
    UNCHANGED,
    Entry,
    Touch,
)
from slimscope.tui.filters import path_filter
from slimscope.tui.shown import Shown, under_kept_dirs
from slimscope.tui.table import Table
from slimscope.tui.view import View

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis


class ImageModel:
    """Views of an Analysis, computed on demand and cached."""

    VIEWS = 12      # views kept
    FILTERS = 4     # filter masks kept

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.composed = analysis.composed
        self.indexes = [l.index for l in analysis.image.layers]
        self.n = len(self.indexes)
        self.table = Table(self.composed)
        # (layer, mode) -> the view and what the tree shows of it unfiltered
        self._views: dict[tuple[int, str], tuple[View, Shown]] = {}
        self._masks: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.wasted_units = {w.unit for w in analysis.waste}
        t = self.table
        self.c_wasted = np.zeros(len(t.c_group), bool)
        if self.wasted_units:
            self.c_wasted[[t.candidate(u) for u in self.wasted_units]] = True
        self.whiteout_costs = self._whiteout_costs()
        # per layer: whiteout paths, opaque dirs
        self._gone: list[Optional[tuple[set[str], set[str]]]] = [None] * self.n

    # -- whiteouts -------------------------------------------------------------
    def _whiteout_costs(self) -> list[dict[str, int]]:
        """Per layer: whiteout/opaque path -> bytes of the lower units it hides."""
        t = self.table
        roots = [{t.paths[g] for g, _, _ in marks} for marks in t.marks]
        costs: list[dict[str, int]] = [{} for _ in self.indexes]
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

    def whiteouts(self, layer: int) -> tuple[set[str], set[str]]:
        gone = self._gone[layer]
        if gone is None:
            t = self.table
            wh = {t.paths[g] for g, k, _ in t.marks[layer] if k == WHITEOUT}
            opq = {t.paths[g] for g, k, _ in t.marks[layer] if k == OPAQUE}
            gone = self._gone[layer] = (wh, opq)
        return gone

    # -- views -----------------------------------------------------------------
    def _view(self, layer: int, mode: str) -> tuple[View, Shown]:
        key = (layer, mode)
        with self._lock:
            got = self._views.get(key)
        if got is None:
            v = View(self.table, layer, mode, self.whiteout_costs[layer],
                     self.composed.hardlink_unit)
            got = (v, Shown(v, v.exists, count_hidden=False))
            with self._lock:
                self._views[key] = got
                while len(self._views) > self.VIEWS:   # keep memory bounded
                    self._views.pop(next(iter(self._views)))
        return got

    def view(self, layer: int, mode: str) -> View:
        return self._view(layer, mode)[0]

    def full(self, layer: int, mode: str) -> Shown:
        """Everything the view has, no filter or toggle: what a directory holds in it."""
        return self._view(layer, mode)[1]

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
        v, full = self._view(layer, mode)
        match = self.path_mask(text)
        if match is None and not hide_unchanged and not waste_only:
            return full
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
                keep &= self.wasteful(v, st)
        elif keep.any():
            keep |= v.exists & under_kept_dirs(t, keep, v.dirlike())
        return Shown(v, keep, count_hidden=waste_only)

    def wasteful(self, v: View, st: np.ndarray) -> np.ndarray:
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
    def history(self, path: str) -> list[Touch]:
        """Every layer that touched `path`: stored it, restated it, deleted it or a parent."""
        t = self.table
        out = []
        g = t.group.get(path)
        mine = np.nonzero(t.c_group == g)[0].tolist() if g is not None else []
        by_layer: dict[int, list[int]] = {}
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

    def record(self, view: View, path: str) -> dict[str, Any]:
        """Everything the details pane shows of one row."""
        e = view.rows[path]
        rec: dict[str, Any] = {"path": path, "type": e.kind_name, "status": STATUS_LABELS[e.status],
               "size": e.size, "hides": e.hides, "mode": None, "uid": None, "gid": None,
               "link": None, "digest": None, "layer": None}
        if e.ref >= 0:
            li, i = unpack(e.ref)
            idx = self.indexes[li]
            rec["layer"] = li
            if e.kind not in (WHITEOUT, OPAQUE):
                rec.update(mode=idx.modes[i], uid=idx.uids[i], gid=idx.gids[i],
                           link=idx.links.get(i), mtime=idx.mtimes[i])
            # (a digest a lazy index left out is read here: one body, once)
            d = self.analysis.digest_of(li, i) if e.kind == FILE else None
            if e.kind == HARDLINK:
                unit = self.composed.hardlink_unit.get(e.ref)
                if unit is not None:
                    ul, ui = unpack(unit)
                    d = self.analysis.digest_of(ul, ui)
                    rec["size"] = self.indexes[ul].sizes[ui]
            rec["digest"] = ("sha256:" + d.hex()) if d else None
            if e.kind == FILE:
                rec["wasted"] = e.ref in self.wasted_units
        return rec

    def waste_for(self, unit: int) -> Optional[WasteItem]:
        for w in self.analysis.waste:
            if w.unit == unit:
                return w
        return None


__all__ = ["ImageModel", "Table", "View", "Shown", "Entry", "Touch", "CHANGES", "IMAGE",
           "INHERITED", "STATUS_LABELS", "MARKERS", "IMPLIED", "ADDED",
           "MODIFIED", "METADATA", "UNCHANGED", "DELETED", "OPAQUED"]
