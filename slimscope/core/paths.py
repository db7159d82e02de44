"""Path tables: every path sorted once, so any directory's total is two prefix sums.

A directory's contents sort as one run of paths (everything under ``D`` lies
between ``D/`` and ``D0``), so with the rows' bytes summed in sort order, the bytes
under a directory are the difference of the sums at the two ends of its run. The
tables are numpy columns, one row per path, never a Python object per path.

* `PathTree`: the sorted paths (with the directories they only imply), each
  row's parent, its run of descendants, its children, its depth.
* `HistoryTable`: the tree of every path of every layer, and every layer entry as
  a candidate row (what the explorer's views choose from; what a Dockerfile
  instruction's layer stores under some directories).
* `FinalTable`: the tree of the final filesystem, each row's type, layer and the
  bytes it counts (every body once), made from an analysis or from the files of a
  saved JSON report. The gate's path rules and the diff's directory totals read it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import numpy.typing as npt

from slimscope.core.compose import Composed, pack
from slimscope.errors import BadInput
from slimscope.index.records import FILE, HARDLINK, KIND_NAMES, OPAQUE, WHITEOUT

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis

IntArray = npt.NDArray[np.int32]
NOT_LISTED = 255      # the kind of a row no entry defines (a directory only implied)
_KIND_CODES = {name: code for code, name in enumerate(KIND_NAMES)}


def _concat(parts: list[npt.NDArray[Any]], dtype: Any) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def after_prefix(prefix: str) -> str:
    """The least string greater than every string that starts with `prefix` ("" for none)."""
    if not prefix:
        return ""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class PathTree:
    """Sorted paths, with every ancestor they imply, as rows (row = rank in sort order).

    ``lo[g]:hi[g]`` is the run of rows under row g (empty for a row with no children);
    ``parent[g]`` its parent row (-1 for the root); ``levels`` the rows depth by depth;
    ``kids_of(g)`` its children in path order.
    """

    def __init__(self, listed: Iterable[str]):
        real = set(listed)
        # directories no entry lists: every missing ancestor of a listed path
        # (rpartition through map runs in C: ~4x a per-path Python expression)
        implied = set()
        for p in set(map(itemgetter(0), map(str.rpartition, real, repeat("/")))):
            p = p or "/"
            while p not in real and p not in implied:
                implied.add(p)
                if p == "/":
                    break
                p = p[:p.rfind("/")] or "/"
        implied.add("/")
        paths = sorted(real | implied)
        self.paths: list[str] = paths
        self.group: dict[str, int] = dict(zip(paths, range(len(paths))))
        group = self.group
        G = len(paths)
        group[""] = 0   # what rpartition gives as the parent of a top-level path
        self.parent: IntArray = np.fromiter(
            map(group.__getitem__, map(itemgetter(0), map(str.rpartition, paths, repeat("/")))),
            np.int32, G)
        del group[""]
        self.parent[0] = -1
        # descendants of each directory: the run of rows from "D/" up to "D0"
        self.lo: IntArray = np.zeros(G, np.int32)
        self.hi: IntArray = np.zeros(G, np.int32)
        for g in np.unique(self.parent[1:]).tolist():
            d = paths[g]
            if d == "/":
                self.lo[g], self.hi[g] = 1, G
            else:
                lo = bisect_left(paths, d + "/", g + 1)
                self.lo[g], self.hi[g] = lo, bisect_left(paths, d + "0", lo)
        # rows by depth, for top-down passes
        self.depth: npt.NDArray[np.int16] = np.fromiter(map(str.count, paths, repeat("/")),
                                                        np.int16, G)
        self.depth[0] = 0
        by_depth = np.argsort(self.depth, kind="stable").astype(np.int32)
        self.levels: list[IntArray] = np.split(by_depth, np.cumsum(np.bincount(self.depth))[:-1])
        # children of each row, as runs of one array ordered by parent then path
        self.kids: IntArray = np.argsort(self.parent[1:], kind="stable").astype(np.int32) + 1
        counts = np.bincount(self.parent[1:], minlength=G)
        self.kid_end: IntArray = np.cumsum(counts).astype(np.int32)
        self.kid_start: IntArray = (self.kid_end - counts).astype(np.int32)

    def __len__(self) -> int:
        return len(self.paths)

    def kids_of(self, g: int) -> IntArray:
        return self.kids[self.kid_start[g]:self.kid_end[g]]

    def prefix_rows(self, prefix: str) -> tuple[int, int]:
        """The run of rows whose path starts with `prefix` (a plain string prefix)."""
        lo = bisect_left(self.paths, prefix)
        end = after_prefix(prefix)
        return lo, (bisect_left(self.paths, end, lo) if end else len(self.paths))

    def has_under(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Per row: is any row under it (in its run of descendants) set in `mask`?"""
        k = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        out: npt.NDArray[np.bool_] = (k[self.hi] - k[self.lo]) > 0
        return out


class HistoryTable(PathTree):
    """Every path of the image's history, sorted, and every layer entry, in columns.

    Candidates are the layer entries, layer by layer in tar order (candidate =
    starts[layer] + entry); ``c_group`` is each one's row.
    """

    def __init__(self, composed: Composed):
        layers = composed.layers
        everything = [p for idx in layers for p in idx.paths]
        super().__init__(everything)
        self.n = len(layers)
        starts = [0]
        for idx in layers:
            starts.append(starts[-1] + len(idx))
        self.starts = starts
        N = starts[-1]
        self.c_group: IntArray = np.fromiter(map(self.group.__getitem__, everything), np.int32, N)
        del everything
        self.c_layer: npt.NDArray[np.int16] = np.repeat(np.arange(self.n, dtype=np.int16),
                                                        [len(idx) for idx in layers])
        self.c_kind: npt.NDArray[np.uint8] = _concat(
            [np.frombuffer(bytes(idx.kinds), np.uint8) for idx in layers], np.uint8)
        sizes = _concat([np.frombuffer(idx.sizes, np.int64) for idx in layers], np.int64)
        self.c_size: npt.NDArray[np.int64] = np.where(self.c_kind == FILE, sizes, 0)
        self.c_end: npt.NDArray[np.uint16] = _concat(
            [np.frombuffer(e, np.uint16) for e in composed.ends], np.uint16)
        self.c_status: npt.NDArray[np.uint8] = _concat(
            [np.frombuffer(bytes(s), np.uint8) for s in composed.status], np.uint8)
        # whiteouts and opaque markers, per layer: [(row, kind, candidate)]
        self.marks: list[list[tuple[int, int, int]]] = [[] for _ in layers]
        for c in np.nonzero((self.c_kind == WHITEOUT) | (self.c_kind == OPAQUE))[0].tolist():
            self.marks[int(self.c_layer[c])].append((int(self.c_group[c]), int(self.c_kind[c]), c))

    def candidate(self, ref: int) -> int:
        return self.starts[ref >> 32] + (ref & 0xFFFFFFFF)

    def ref(self, c: int) -> int:
        li = int(self.c_layer[c])
        return pack(li, c - self.starts[li])

    def layer_bytes_under(self, layer: int, prefixes: Iterable[str]) -> int:
        """Content bytes `layer` stores (every entry, restated ones too) at paths that
        start with any of `prefixes` (plain string prefixes)."""
        s0, s1 = self.starts[layer], self.starts[layer + 1]
        rows = self.c_group[s0:s1]
        hit = np.zeros(len(rows), bool)
        for p in prefixes:
            lo, hi = self.prefix_rows(p)
            hit |= (rows >= lo) & (rows < hi)
        return int(self.c_size[s0:s1][hit].sum())


class FinalTable(PathTree):
    """The final filesystem as a path tree: per row its kind, layer and counted bytes.

    A row counts the bytes of the body it shows, each body once: a file its size, a
    hardlink its body's size only when no path of the tree is the file it links to
    (its twin was deleted); everything else 0. `shown` is the size of the body a file or
    hardlink row shows, whichever name of its group holds it. Rows only implied have
    kind NOT_LISTED.
    """

    def __init__(self, paths: Iterable[str], digest_of: Callable[[int], Optional[str]],
                 prefetch: Optional[Callable[[list[str]], None]] = None):
        super().__init__(paths)
        G = len(self.paths)
        self.kind: npt.NDArray[np.uint8] = np.full(G, NOT_LISTED, np.uint8)
        self.layer: npt.NDArray[np.int32] = np.full(G, -1, np.int32)
        self.counted: npt.NDArray[np.int64] = np.zeros(G, np.int64)
        self.shown: npt.NDArray[np.int64] = np.zeros(G, np.int64)
        self._digest_of = digest_of
        self._prefetch = prefetch
        self._sums: Optional[npt.NDArray[np.int64]] = None
        self._listed_sums: Optional[npt.NDArray[np.int64]] = None

    @classmethod
    def of_analysis(cls, analysis: Analysis) -> FinalTable:
        composed = analysis.composed
        final = composed.final

        def digest_of(g: int) -> Optional[str]:
            rec = analysis.entry(t.paths[g])
            return None if rec is None else rec.digest

        t = cls(final, digest_of, analysis.read_digests)
        n = len(final)
        rows = np.fromiter(map(t.group.__getitem__, final), np.int64, n)
        refs = np.fromiter(final.values(), np.int64, n)
        li, ei = refs >> 32, refs & 0xFFFFFFFF
        for L, idx in enumerate(composed.layers):
            mine = np.nonzero(li == L)[0]
            if not len(mine):
                continue
            r, e = rows[mine], ei[mine]
            t.kind[r] = np.frombuffer(bytes(idx.kinds), np.uint8)[e]
            t.counted[r] = np.frombuffer(idx.sizes, np.int64)[e]
            t.layer[r] = L
        links = np.nonzero(t.kind == HARDLINK)[0].tolist()
        t.counted[t.kind != FILE] = 0
        t.shown[:] = t.counted
        for g in links:
            path = t.paths[g]
            rec = analysis.entry(path)
            if rec is None:
                continue
            t.shown[g] = rec.size
            if rec.link not in final:
                t.counted[g] = rec.size
        return t

    @classmethod
    def of_records(cls, records: Iterable[Mapping[str, Any]], where: str) -> FinalTable:
        """From the "files" of a saved analysis report (dicts with path, type, size, link,
        layer, digest)."""
        by_path: dict[str, Mapping[str, Any]] = {}
        for r in records:
            by_path[r["path"]] = r
        paths = list(by_path)
        digests: dict[str, Optional[str]] = {p: r.get("digest") for p, r in by_path.items()}
        t = cls(paths, lambda g: digests.get(t.paths[g]))
        for p, r in by_path.items():
            g = t.group[p]
            code = _KIND_CODES.get(r["type"])
            if code is None:
                raise BadInput(f"{where}: unknown file type {r['type']!r} of {p}")
            t.kind[g] = code
            layer = r.get("layer")
            t.layer[g] = layer if isinstance(layer, int) else -1
            if code in (FILE, HARDLINK):
                t.shown[g] = r["size"]
            if code == FILE or (code == HARDLINK and r.get("link") not in by_path):
                t.counted[g] = r["size"]
        return t

    # -- reading it ----------------------------------------------------------------
    def listed(self, g: int) -> bool:
        return int(self.kind[g]) != NOT_LISTED

    def kind_name(self, g: int) -> str:
        k = int(self.kind[g])
        return "dir" if k == NOT_LISTED else KIND_NAMES[k]

    def digest(self, g: int) -> Optional[str]:
        return self._digest_of(g) if self.listed(g) else None

    def prefetch_digests(self, rows: Iterable[int]) -> None:
        """Read the digests of these rows that are not read yet in one go (a lazily read
        layer's bodies, a layer at a time) rather than one digest() at a time."""
        if self._prefetch is not None:
            self._prefetch([self.paths[g] for g in rows])

    def layer_of(self, g: int) -> Optional[int]:
        n = int(self.layer[g])
        return None if n < 0 else n

    @property
    def sums(self) -> npt.NDArray[np.int64]:
        """Counted bytes summed in row order, from 0: rows a..b hold sums[b] - sums[a]."""
        if self._sums is None:
            self._sums = np.concatenate([[0], np.cumsum(self.counted)]).astype(np.int64)
        return self._sums

    def bytes_under(self, g: int) -> int:
        """Counted bytes of the rows under row g (not its own)."""
        return int(self.sums[self.hi[g]] - self.sums[self.lo[g]])

    def entries_under(self, g: int) -> int:
        """Listed rows under row g."""
        if self._listed_sums is None:
            self._listed_sums = np.concatenate(
                [[0], np.cumsum(self.kind != NOT_LISTED)]).astype(np.int64)
        return int(self._listed_sums[self.hi[g]] - self._listed_sums[self.lo[g]])

    def listed_rows(self) -> list[int]:
        rows: list[int] = np.nonzero(self.kind != NOT_LISTED)[0].tolist()
        return rows

    def counted_rows(self) -> list[int]:
        """Rows that count some bytes, in path order."""
        rows: list[int] = np.nonzero(self.counted)[0].tolist()
        return rows

    def counted_files(self) -> Iterator[tuple[str, int]]:
        """(path, bytes) of every row that counts some bytes, in path order."""
        paths, counted = self.paths, self.counted
        for g in self.counted_rows():
            yield paths[g], int(counted[g])

    def dir_totals(self, depth: int) -> dict[str, int]:
        """Directory path -> counted bytes under it, for directories `depth` levels deep at
        most that hold some."""
        out: dict[str, int] = {}
        paths = self.paths
        for level in self.levels[1:depth + 1]:
            got = self.sums[self.hi[level]] - self.sums[self.lo[level]]
            for g, n in zip(level[got > 0].tolist(), got[got > 0].tolist()):
                out[paths[g]] = n
        return out


__all__ = ["PathTree", "HistoryTable", "FinalTable", "NOT_LISTED", "after_prefix"]
