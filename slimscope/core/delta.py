"""What changed between two images: totals, layers, directories and files.

Either side is an image (any source) or a saved JSON report: the
`slimscope.analysis/v1` document of `slimscope analyze --format json` (with
`--files` for the per-file part) or the `slimscope.ci/v1` document of
`slimscope ci --json`, which embeds one with its files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from slimscope import schemas
from slimscope.core.paths import NOT_LISTED, FinalTable
from slimscope.errors import BadInput
from slimscope.index.records import KIND_NAMES

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis

DIFF_SCHEMA = schemas.DIFF
TOTAL_KEYS = ("final_bytes", "total_bytes", "wasted_bytes", "compressed_bytes", "layers", "files")
NO_FILES = ("per-file data is missing from {what}: save it with `slimscope analyze --format json "
            "--files` or `slimscope ci --json`")


@dataclass
class Totals:
    """The totals a diff compares (None where a saved report does not say)."""

    final_bytes: Optional[int] = None
    total_bytes: Optional[int] = None
    wasted_bytes: Optional[int] = None
    compressed_bytes: Optional[int] = None
    layers: Optional[int] = None
    files: Optional[int] = None

    def get(self, key: str) -> Optional[int]:
        value: Optional[int] = getattr(self, key)
        return value


@dataclass
class LayerView:
    """What a diff knows of one layer."""

    index: Optional[int]
    diff_id: str
    created_by: str
    bytes: Optional[int]
    compressed_bytes: Optional[int]
    comment: str = ""       # the history comment ("Imported from -"), for a layer without command

    @property
    def command(self) -> str:
        """The layer's name in every report: its command, else its history comment."""
        return self.created_by or self.comment


@dataclass
class ImageView:
    """What a diff needs of one side, from an analysis or a saved report."""

    reference: str
    id: str
    origin: str                      # "image" or the report's path
    totals: Totals
    layers: list[LayerView]
    files: Optional[FinalTable] = None   # the final filesystem; None when not known
    analysis: Optional[Analysis] = field(default=None, repr=False)


def view_of(analysis: Analysis) -> ImageView:
    """The view of an analysis, read from its records."""
    totals = Totals(final_bytes=analysis.final_bytes, total_bytes=analysis.total_bytes,
                    wasted_bytes=analysis.wasted_bytes,
                    compressed_bytes=analysis.compressed_bytes, layers=len(analysis.layers),
                    files=analysis.file_count)
    layers = [LayerView(l.index, l.diff_id, l.created_by, l.bytes, l.compressed_bytes, l.comment)
              for l in analysis.layers]
    return ImageView(analysis.image.reference, analysis.image.id, "image", totals, layers,
                     analysis.final_table, analysis)


def analysis_doc(doc: Any, where: str) -> dict[str, Any]:
    """The analysis part of a saved report (an analysis JSON or a ci JSON)."""
    if not isinstance(doc, dict):
        raise BadInput(f"{where} is not a slimscope JSON report")
    schema = doc.get("schema")
    if schema == schemas.CI:
        doc = doc.get("analysis")
        if not isinstance(doc, dict):
            raise BadInput(f"{where}: this ci report holds no analysis (it was written by a "
                           "run whose analysis failed)")
        schema = doc.get("schema")
    if schema != schemas.ANALYSIS:
        raise BadInput(f"{where} is not a slimscope report (schema {schema!r}; expected "
                       f"{schemas.ANALYSIS} or {schemas.CI})")
    return doc


def view_from_json(doc: Any, where: str) -> ImageView:
    """The view of a saved report: the same view type as an analysis gives."""
    doc = analysis_doc(doc, where)
    try:
        img = doc["image"]
        files = doc.get("files")
        totals = doc["totals"]
        layers = [LayerView(l.get("index"), l["diff_id"], l.get("created_by", ""),
                            _count(l.get("bytes"), where, f"layers[{i}].bytes"),
                            _count(l.get("compressed_bytes"), where,
                                   f"layers[{i}].compressed_bytes"),
                            l.get("comment") or "")
                  for i, l in enumerate(doc["layers"])]
        return ImageView(img.get("reference", ""), img.get("id", ""), where,
                         Totals(**{k: _count(totals.get(k), where, f"totals.{k}")
                                   for k in TOTAL_KEYS}), layers,
                         None if files is None else FinalTable.of_records(files, where))
    except (KeyError, TypeError, AttributeError) as e:
        raise BadInput(f"{where}: malformed slimscope report (missing {e})") from None
    except (ValueError, OverflowError) as e:   # a size that is not a number
        raise BadInput(f"{where}: malformed slimscope report ({e})") from None


def is_report(name: str) -> bool:
    """A saved JSON report rather than an image: a file that starts with `{`."""
    if not os.path.isfile(name):
        return False
    try:
        with open(name, "rb") as f:
            head = f.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def read_report(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, parse_constant=_no_constant)
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path} is not valid JSON ({e})") from None
    except RecursionError:
        raise BadInput(f"{path} nests too deep to be a slimscope report") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a report can hold")


def _count(value: Any, where: str, key: str) -> Optional[int]:
    """A byte count of a saved report: a whole number, or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(f'{where}: "{key}" must be a whole number of bytes, not {value!r}')
    return value


def load_view(name: str,
              load_analysis: Optional[Callable[[str], Analysis]] = None) -> ImageView:
    """A saved report when `name` is one, else the analysis of the image `name`, made
    by `load_analysis` (the caller decides the options and how progress shows)."""
    if is_report(name):
        return view_from_json(read_report(name), name)
    if load_analysis is None:
        from slimscope.core.analysis import analyze
        return view_of(analyze(name))
    return view_of(load_analysis(name))


@dataclass
class FileChange:
    path: str
    change: str          # added, removed, grew, shrank, changed
    old_bytes: int
    new_bytes: int

    @property
    def delta(self) -> int:
        return self.new_bytes - self.old_bytes


@dataclass
class Diff:
    old: ImageView
    new: ImageView
    totals: dict[str, tuple[Optional[int], Optional[int]]]   # key -> (old, new)
    shared_layers: list[LayerView]       # layers of NEW whose diff_id OLD has too
    removed_layers: list[LayerView]      # layers of OLD that NEW lacks
    added_layers: list[LayerView]        # layers of NEW that OLD lacks
    dirs: Optional[list[tuple[str, int, int]]] = None   # (dir, old, new), largest change first
    files: Optional[list[FileChange]] = None            # largest change first

    @property
    def growth(self) -> int:
        old, new = self.old.totals.final_bytes, self.new.totals.final_bytes
        if old is None or new is None:
            raise BadInput("a saved report gives no final_bytes: the growth is unknown")
        return new - old

    def notes(self) -> list[str]:
        out = []
        for side, v in (("old", self.old), ("new", self.new)):
            if v.files is None:
                out.append(NO_FILES.format(what=f"the {side} side ({v.origin})"))
        return out


def _multiset_split(a: list[LayerView], b: list[LayerView]
                    ) -> tuple[list[LayerView], list[LayerView], list[LayerView]]:
    """Layers of b whose diff_id a has too (counting repeats), and the rest of each."""
    pool: dict[str, int] = {}
    for l in a:
        pool[l.diff_id] = pool.get(l.diff_id, 0) + 1
    shared, added = [], []
    for l in b:
        if pool.get(l.diff_id, 0) > 0:
            pool[l.diff_id] -= 1
            shared.append(l)
        else:
            added.append(l)
    left: dict[str, int] = {}
    for l in b:
        left[l.diff_id] = left.get(l.diff_id, 0) + 1
    removed = []
    for l in a:
        if left.get(l.diff_id, 0) > 0:
            left[l.diff_id] -= 1
        else:
            removed.append(l)
    return shared, removed, added


def _listed(t: FinalTable) -> dict[str, tuple[str, int, int, int]]:
    """path -> (type, counted bytes, row, bytes shown) of every path the table lists."""
    paths, kinds, counted, shown = t.paths, t.kind.tolist(), t.counted.tolist(), t.shown.tolist()
    return {paths[g]: (KIND_NAMES[kinds[g]], counted[g], g, shown[g]) for g in range(len(paths))
            if kinds[g] != NOT_LISTED}


def compare(old: ImageView, new: ImageView, depth: int = 3) -> Diff:
    totals = {k: (old.totals.get(k), new.totals.get(k)) for k in TOTAL_KEYS}
    shared, removed, added = _multiset_split(old.layers, new.layers)
    d = Diff(old, new, totals, shared, removed, added)
    if old.files is None or new.files is None:
        return d
    of, nf = old.files, new.files
    olist, nlist = _listed(of), _listed(nf)
    changes = []
    same_size = []   # paths whose digests tell whether they changed
    for path in olist.keys() | nlist.keys():
        o, n = olist.get(path), nlist.get(path)
        if o is None:
            if n is not None and n[0] != "dir":
                changes.append(FileChange(path, "added", 0, n[1]))
        elif n is None:
            if o[0] != "dir":
                changes.append(FileChange(path, "removed", o[1], 0))
        elif n[3] != o[3]:
            # what the path shows, not which name of a hardlink group holds the body
            changes.append(FileChange(path, "grew" if n[3] > o[3] else "shrank", o[3], n[3]))
        elif n[3]:
            same_size.append((path, o, n))
    of.prefetch_digests(o[2] for _, o, _ in same_size)
    nf.prefetch_digests(n[2] for _, _, n in same_size)
    for path, o, n in same_size:
        od, nd = of.digest(o[2]), nf.digest(n[2])
        if od and nd and od != nd:
            changes.append(FileChange(path, "changed", o[3], n[3]))
    changes.sort(key=lambda c: (-abs(c.delta), -c.new_bytes, c.path))
    d.files = changes
    so, sn = of.dir_totals(depth), nf.dir_totals(depth)
    dirs = [(k, so.get(k, 0), sn.get(k, 0)) for k in so.keys() | sn.keys()
            if so.get(k, 0) != sn.get(k, 0)]
    dirs.sort(key=lambda t: (-abs(t[2] - t[1]), t[0]))
    d.dirs = dirs
    return d


def to_json(d: Diff, top: Optional[int] = None) -> dict[str, Any]:
    def side(v: ImageView) -> dict[str, Any]:
        return {"reference": v.reference, "id": v.id, "origin": v.origin}

    def layer(l: LayerView) -> dict[str, Any]:
        return {"index": l.index, "diff_id": l.diff_id, "created_by": l.created_by,
                "bytes": l.bytes, "compressed_bytes": l.compressed_bytes}

    return {
        "schema": DIFF_SCHEMA,
        "old": side(d.old),
        "new": side(d.new),
        "totals": {k: {"old": o, "new": n,
                       "change": None if o is None or n is None else n - o}
                   for k, (o, n) in d.totals.items()},
        "layers": {"shared": len(d.shared_layers),
                   "removed": [layer(l) for l in d.removed_layers],
                   "added": [layer(l) for l in d.added_layers]},
        "directories": None if d.dirs is None else [
            {"path": p, "old_bytes": o, "new_bytes": n, "change": n - o}
            for p, o, n in d.dirs[:top]],
        "files": None if d.files is None else [
            {"path": c.path, "change": c.change, "old_bytes": c.old_bytes,
             "new_bytes": c.new_bytes, "delta": c.delta} for c in d.files[:top]],
        "notes": d.notes(),
    }
