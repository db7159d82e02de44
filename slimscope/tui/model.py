"""The explorer's file model: per-layer trees built from the composed analysis.

No tarball is read again. Two views per layer:

* ``changes``: the entries of that layer's LayerIndex with the status the composer
  gave them (added, modified, metadata-only, unchanged, deleted, opaque).
* ``image``: the filesystem as composed through that layer (``compose`` of the
  first N+1 indexes, cached per layer and composed once for the layers below a
  missed one; the last layer reuses the analysis), plus
  the layer's whiteouts as "ghost" rows.

A whiteout row shows the bytes it still costs: the size of the lower content
units it hides (they stay stored in the lower layer). Directory sizes are
aggregated once per view (and once per filter), so opening a directory only
sorts its children. This module does not import Textual.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from bisect import bisect_left
from itertools import compress, repeat
from operator import contains, itemgetter
from dataclasses import dataclass
from typing import Callable, Optional

from slimscope.compose import (ADDED, DELETED, METADATA, MODIFIED, OPAQUED, UNCHANGED, Composed,
                               _Composer, pack, unpack)
from slimscope.layerindex import DIR, FILE, HARDLINK, KIND_NAMES, OPAQUE, WHITEOUT, parent_of

# A row of the image view that a lower layer put there and this layer left alone.
INHERITED = 6
STATUS_LABELS = ("added", "modified", "metadata-only", "unchanged", "deleted", "opaque",
                 "from a lower layer")
MARKERS = ("+", "~", "≈", " ", "-", "⊘", " ")
IMPLIED = -1  # a parent directory the layer tar does not list

CHANGES, IMAGE = "changes", "image"


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
        return self.kind in (DIR, IMPLIED, OPAQUE)

    @property
    def kind_name(self) -> str:
        return "dir" if self.kind == IMPLIED else KIND_NAMES[self.kind]


@dataclass
class Shown:
    """What the tree shows of a view: kept paths, their children and totals."""

    view: "View"
    children: dict   # dir path -> [child paths]
    totals: dict     # path -> bytes (own for files, aggregate for dirs)
    matched: int     # rows kept by the predicates (parents not counted)

    @property
    def total(self) -> int:
        return self.totals.get("/", 0)

    def sorted_children(self, path: str, by_size: bool = True) -> list:
        kids = self.children.get(path, [])
        if by_size:
            t = self.totals
            return sorted(kids, key=lambda p: (-t.get(p, 0), p))
        return sorted(kids)

    def __contains__(self, path: str) -> bool:
        return path in self.totals


class View:
    """Every row of one (layer, mode), and the unfiltered structure."""

    def __init__(self, layer: int, mode: str, rows: dict):
        self.layer = layer
        self.mode = mode
        self.rows = rows
        self._paths: Optional[list] = None
        self.full = structure(self, None)

    @property
    def paths(self) -> list:
        if self._paths is None:
            self._paths = sorted(self.rows)
        return self._paths

    def select(self, pred: Optional[Callable[[str, Entry], bool]], subtree: bool = True,
               count_hidden: bool = False, match: Optional[Callable] = None) -> Shown:
        """The rows `pred` keeps, with their parents; a kept directory keeps its contents.

        `count_hidden` adds what whiteouts hide to the totals in image mode too.
        `match`, when given, is a cheap path-only test every kept row must also pass:
        it narrows the rows first (see `path_filter`), so `pred` sees only those."""
        if pred is None:
            return self.full
        rows = self.rows
        paths = self.paths
        cand = paths if match is None else match(self)
        matched = [p for p in cand if p != "/" and pred(p, rows[p])]
        if not subtree or not matched:
            return structure(self, matched, count_hidden)
        # a kept directory keeps its contents: they are the sorted range of paths
        # starting with "dir/"; walk only those ranges (paths are sorted, so a
        # directory comes before its contents and nested ranges come inside).
        hit = set(matched)
        keep = []
        inside = None   # "dir/" of the kept directory whose contents were just walked
        for p in matched:
            if inside is not None and p.startswith(inside):
                continue    # decided by the walk of that directory's contents
            keep.append(p)
            if rows[p].is_dir:
                inside = p + "/"
                lo = bisect_left(paths, inside)
                hi = bisect_left(paths, p + "0", lo)   # "0" follows "/"
                kept_dirs = {p}
                for q in paths[lo:hi]:
                    if q in hit or parent_of(q) in kept_dirs:
                        keep.append(q)
                        if rows[q].is_dir:
                            kept_dirs.add(q)
        return structure(self, keep, count_hidden)


def structure(view: View, keep: Optional[list], count_hidden: bool = False) -> Shown:
    """Link the kept rows under their parents and sum sizes up the tree.

    Changes views count what whiteouts hide (the bytes they still cost); image
    views count only what the filesystem shows, unless `count_hidden`."""
    rows = view.rows
    with_hides = view.mode == CHANGES or count_hidden
    children: dict = {}
    totals: dict = {"/": 0}
    paths = rows.keys() if keep is None else keep
    # each kept row's own bytes
    for p in paths:
        if p != "/":
            e = rows[p]
            totals[p] = (e.size if e.counted else 0) + (e.hides if with_hides else 0)
    # link each row under its parent; a parent that is not kept is added with no
    # bytes of its own and linked in turn.
    for p in paths:
        if p == "/":
            continue
        child = p
        while True:
            cut = child.rfind("/")
            parent = child[:cut] if cut > 0 else "/"    # parent_of, inlined
            kids = children.get(parent)
            if kids is None:
                children[parent] = [child]
            else:
                kids.append(child)
            if parent in totals:
                break
            totals[parent] = 0
            child = parent
    # sum up the tree: directories only, deepest first, each over its children
    get = totals.__getitem__
    for d in sorted(children, key=_depth, reverse=True):
        totals[d] += sum(map(get, children[d]))
    root = rows.get("/")
    if root is not None:
        totals["/"] += (root.size if root.counted else 0) + (root.hides if with_hides else 0)
    return Shown(view, children, totals, len(paths) if keep is not None else len(rows))


def _depth(path: str) -> int:
    return path.count("/") if path != "/" else 0


def _parse_filter(text: str):
    """What a filter text asks: ("path"|"name", compiled match) for a glob, ("fragment", text).

    A glob with a slash matches the whole path (a leading * is implied when it
    does not start with / or *); one without a slash matches the file name. Any
    other text is a case-insensitive substring of the path. None when empty.
    """
    text = text.strip()
    if not text:
        return None
    if any(c in text for c in "*?["):
        if "/" in text:
            pat = text if text.startswith(("/", "*")) else "*/" + text
            return "path", re.compile(fnmatch.translate(pat)).match   # what fnmatchcase runs
        return "name", re.compile(fnmatch.translate(text)).match
    return "fragment", text.lower()


def path_matcher(text: str) -> Optional[Callable[[str], bool]]:
    """One path at a time: does it match the filter text (see `_parse_filter`)?"""
    parsed = _parse_filter(text)
    if parsed is None:
        return None
    kind, how = parsed
    if kind == "path":
        return lambda p: how(p) is not None
    if kind == "name":
        return lambda p: how(p[p.rfind("/") + 1:]) is not None
    return lambda p: how in p.lower()


def path_filter(text: str) -> Optional[Callable[["View"], list]]:
    """`path_matcher` over a whole view at once: view -> its sorted paths that match.

    The same tests, run through map/filter over the sorted path list, not one
    Python call per path."""
    parsed = _parse_filter(text)
    if parsed is None:
        return None
    kind, how = parsed
    if kind == "path":
        return lambda view: list(filter(how, view.paths))
    if kind == "name":
        def by_name(view):
            paths = view.paths
            names = map(itemgetter(2), map(str.rpartition, paths, repeat("/")))
            return list(compress(paths, map(how, names)))
        return by_name
    low = how

    def by_fragment(view):
        paths = view.paths
        return list(compress(paths, map(contains, map(str.lower, paths), repeat(low))))
    return by_fragment


def _keep_all(path: str, e: Entry) -> bool:
    return True


@dataclass
class Touch:
    """One layer's word on a path, for the details pane."""

    layer: int
    what: str       # a status label, or "removed with DIR" / "emptied DIR"
    kind: str
    size: int


class ImageModel:
    """Views of an Analysis, computed on demand and cached."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.composed = analysis.composed
        self.indexes = [l.index for l in analysis.image.layers]
        self.n = len(self.indexes)
        self._views: dict = {}
        self._composed_through: dict = {self.n - 1: self.composed} if self.n else {}
        self._lock = threading.Lock()
        self.wasted_units = {w.unit for w in analysis.waste}
        self._hides = self._whiteout_costs()
        self._gone = [None] * self.n   # per layer: whiteout paths, opaque dirs

    # -- whiteouts -------------------------------------------------------------
    def _whiteout_costs(self) -> list:
        """Per layer: whiteout/opaque path -> bytes of the lower units it hides."""
        roots = []
        for idx in self.indexes:
            roots.append({idx.paths[i] for i in range(len(idx))
                          if idx.kinds[i] in (WHITEOUT, OPAQUE)})
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
            idx = self.indexes[layer]
            wh, opq = set(), set()
            for i in range(len(idx)):
                k = idx.kinds[i]
                if k == WHITEOUT:
                    wh.add(idx.paths[i])
                elif k == OPAQUE:
                    opq.add(idx.paths[i])
            self._gone[layer] = (wh, opq)
        return self._gone[layer]

    # -- views -----------------------------------------------------------------
    def view(self, layer: int, mode: str) -> View:
        key = (layer, mode)
        with self._lock:
            v = self._views.get(key)
        if v is None:
            v = self._changes(layer) if mode == CHANGES else self._image(layer)
            with self._lock:
                self._views[key] = v
                # keep memory bounded on images with many big layers
                while len(self._views) > 8:
                    self._views.pop(next(iter(self._views)))
        return v

    PREFIXES = 16   # composed prefixes kept (besides the whole image)

    def composed_through(self, layer: int):
        """The image composed through `layer`: final tree, statuses, hardlink units.

        A miss composes layers 0..layer once and keeps the tree after each of the
        PREFIXES - 1 layers below too, so walking down the layers composes once."""
        with self._lock:
            c = self._composed_through.get(layer)
        if c is not None:
            return c
        comp = _Composer(self.indexes)
        statuses = []
        made = {}
        keep_from = layer - self.PREFIXES + 1
        for li in range(layer + 1):
            statuses.append(comp.apply(li, self.indexes[li]))
            if li == layer:
                made[li] = Composed(self.indexes[:li + 1], comp.final, statuses,
                                    comp.hardlink_unit, comp.hidden, hashed=comp.hashed)
            elif li >= keep_from:
                made[li] = Composed(self.indexes[:li + 1], dict(comp.final), statuses[:],
                                    dict(comp.hardlink_unit), hashed=comp.hashed)
        with self._lock:
            for li, c in made.items():
                self._composed_through.setdefault(li, c)
            while len(self._composed_through) > self.PREFIXES + 1:
                k = next(k for k in self._composed_through if k != self.n - 1)
                self._composed_through.pop(k)
            return self._composed_through.get(layer, made[layer])

    def _changes(self, layer: int) -> View:
        idx = self.indexes[layer]
        status = self.composed.status[layer]
        costs = self._hides[layer]
        kinds, sizes, paths = idx.kinds, idx.sizes, idx.paths
        rows: dict = {}
        for i in range(len(kinds)):
            p = paths[i]
            k = kinds[i]
            if k == WHITEOUT:
                if p in rows:   # a whiteout and a new entry at one path: the entry speaks
                    rows[p].hides += costs.get(p, 0)
                    continue
                rows[p] = Entry(k, 0, DELETED, pack(layer, i), costs.get(p, 0))
            elif k == OPAQUE:
                e = rows.get(p)
                if e is not None and e.kind in (DIR, WHITEOUT):
                    e.status = OPAQUED
                    e.hides += costs.get(p, 0)
                else:
                    rows[p] = Entry(k, 0, OPAQUED, pack(layer, i), costs.get(p, 0))
            else:
                prev = rows.get(p)
                e = Entry(k, sizes[i] if k == FILE else 0, status[i], pack(layer, i))
                if prev is not None and prev.kind in (WHITEOUT, OPAQUE):
                    e.hides = prev.hides
                    if prev.kind == OPAQUE and k == DIR:
                        e.status = OPAQUED
                rows[p] = e
        self._fill_parents(rows)
        return View(layer, CHANGES, rows)

    def _image(self, layer: int) -> View:
        comp = self.composed_through(layer)
        layers = comp.layers
        rows: dict = {}
        links = []
        kinds_of = [idx.kinds for idx in layers]
        sizes_of = [idx.sizes for idx in layers]
        status = comp.status
        for p, ref in comp.final.items():
            li = ref >> 32          # unpack, inlined
            i = ref & 0xFFFFFFFF
            k = kinds_of[li][i]
            if k == FILE:
                size = sizes_of[li][i]
            else:
                size = 0
                if k == HARDLINK:
                    links.append(p)
            rows[p] = Entry(k, size, status[li][i] if li == layer else INHERITED, ref)
        # a body whose file name is gone stays visible (and counted) through a hardlink
        seen_units = {e.ref for e in rows.values() if e.kind == FILE} if links else set()
        for p in sorted(links):
            unit = comp.hardlink_unit.get(rows[p].ref)
            if unit is not None and unit not in seen_units:
                seen_units.add(unit)
                rows[p].size = comp.unit_size(unit)
        # this layer's whiteouts, as ghost rows that do not count in the totals
        idx = self.indexes[layer]
        costs = self._hides[layer]
        for i in range(len(idx)):
            k = idx.kinds[i]
            if k not in (WHITEOUT, OPAQUE):
                continue
            p = idx.paths[i]
            e = rows.get(p)
            if e is not None:
                if k == OPAQUE:
                    e.status = OPAQUED
                    e.hides += costs.get(p, 0)
                continue
            rows[p] = Entry(k, 0, DELETED if k == WHITEOUT else OPAQUED, pack(layer, i),
                            costs.get(p, 0), counted=False)
        self._fill_parents(rows)
        return View(layer, IMAGE, rows)

    @staticmethod
    def _fill_parents(rows: dict) -> None:
        missing = []
        for p in rows:
            a = p
            while a != "/":
                a = parent_of(a)
                if a in rows:
                    break
                missing.append(a)
        for a in missing:
            if a not in rows:
                rows[a] = Entry(IMPLIED, 0, UNCHANGED, -1)
        if "/" not in rows:
            rows["/"] = Entry(IMPLIED, 0, UNCHANGED, -1)

    # -- predicates ------------------------------------------------------------
    def predicate(self, view: View, text: str = "", hide_unchanged: bool = False,
                  waste_only: bool = False):
        """Combine the filter text and the two toggles; None when nothing filters."""
        match = path_matcher(text)
        if match is None and not hide_unchanged and not waste_only:
            return None
        wasted = self.wasted_units
        quiet = (UNCHANGED, INHERITED)

        def pred(path: str, e: Entry) -> bool:
            if hide_unchanged and (e.status in quiet or e.kind == IMPLIED):
                return False
            if waste_only:
                if e.status in (DELETED, OPAQUED):
                    if not e.hides:
                        return False
                elif not (e.kind == FILE and e.ref in wasted):
                    return False
            return match is None or match(path)

        return pred

    def shown(self, layer: int, mode: str, text: str = "", hide_unchanged: bool = False,
              waste_only: bool = False) -> Shown:
        v = self.view(layer, mode)
        narrow = path_filter(text)
        # the path test runs over the whole view at once; `pred` sees what it keeps
        pred = self.predicate(v, "", hide_unchanged, waste_only)
        if narrow is not None and pred is None:
            pred = _keep_all
        # with a toggle on, a kept directory does not drag in its unchanged contents
        return v.select(pred, subtree=not (hide_unchanged or waste_only), count_hidden=waste_only,
                        match=narrow)

    # -- details ---------------------------------------------------------------
    def history(self, path: str) -> list:
        """Every layer that touched `path`: stored it, restated it, deleted it or a parent."""
        out = []
        status = self.composed.status
        for li, idx in enumerate(self.indexes):
            paths = idx.paths
            start = 0
            while True:
                try:
                    i = paths.index(path, start)
                except ValueError:
                    break
                start = i + 1
                k = idx.kinds[i]
                out.append(Touch(li, STATUS_LABELS[status[li][i]], KIND_NAMES[k],
                                 idx.sizes[i] if k == FILE else 0))
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
           "STATUS_LABELS", "MARKERS", "IMPLIED", "path_matcher", "path_filter", "ADDED", "MODIFIED", "METADATA",
           "UNCHANGED", "DELETED", "OPAQUED"]
