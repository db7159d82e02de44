"""What changed between two images: totals, layers, directories and files.

Either side is an image (any source) or a saved JSON report: the
`slimscope.analysis/v1` document of `slimscope analyze --format json` (with
`--files` for the per-file part) or the `slimscope.ci/v1` document of
`slimscope ci --json`, which embeds one with its files.
"""

from __future__ import annotations

from slimscope import schemas

import json
import os
from dataclasses import dataclass, field
from typing import Callable, Optional

from slimscope.errors import BadInput

DIFF_SCHEMA = schemas.DIFF
TOTAL_KEYS = ("final_bytes", "total_bytes", "wasted_bytes", "compressed_bytes", "layers", "files")
NO_FILES = ("per-file data is missing from {what}: save it with `slimscope analyze --format json "
            "--files` or `slimscope ci --json`")


@dataclass
class ImageView:
    """What a diff needs of one side, from an analysis or a saved report."""

    reference: str
    id: str
    origin: str                      # "image" or the report's path
    totals: dict
    layers: list                     # dicts: index, diff_id, created_by, bytes, compressed_bytes
    files: Optional[dict] = None     # path -> (type, bytes, digest); None when not known
    analysis: object = field(default=None, repr=False)


def _counted(rec: dict, paths) -> int:
    """Bytes a final-filesystem record adds: a hardlink whose target is still
    there shares that body and adds nothing."""
    if rec["type"] == "file":
        return rec["size"]
    if rec["type"] == "hardlink" and rec.get("link") not in paths:
        return rec["size"]
    return 0


def files_of(records) -> dict:
    records = list(records)
    paths = {r["path"] for r in records}
    return {r["path"]: (r["type"], _counted(r, paths), r.get("digest")) for r in records}


def view_of(analysis) -> ImageView:
    from slimscope.core.report import to_json

    doc = to_json(analysis)
    # the history comment too ("Imported from -"), so a layer is named as in `analyze`
    layers = [dict(d, comment=l.comment) for d, l in zip(doc["layers"], analysis.layers)]
    return ImageView(analysis.image.reference, analysis.image.id, "image", doc["totals"],
                     layers, files_of(analysis.files()), analysis)


def analysis_doc(doc, where: str) -> dict:
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


def view_from_json(doc: dict, where: str) -> ImageView:
    doc = analysis_doc(doc, where)
    try:
        img = doc["image"]
        files = doc.get("files")
        return ImageView(img.get("reference", ""), img.get("id", ""), where, dict(doc["totals"]),
                         list(doc["layers"]), None if files is None else files_of(files))
    except (KeyError, TypeError, AttributeError) as e:
        raise BadInput(f"{where}: malformed slimscope report (missing {e})") from None


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


def read_report(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path} is not valid JSON ({e})") from None


def load_view(name: str, load_analysis: Optional[Callable[[str], object]] = None) -> ImageView:
    """A saved report when `name` is one, else the analysis of the image `name`, made
    by `load_analysis` (the caller decides the options and how progress shows)."""
    if is_report(name):
        return view_from_json(read_report(name), name)
    if load_analysis is None:
        from slimscope.core.analysis import analyze
        load_analysis = analyze
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
    totals: dict                         # key -> (old, new)
    shared_layers: list                  # layers of NEW whose diff_id OLD has too
    removed_layers: list                 # layers of OLD that NEW lacks
    added_layers: list                   # layers of NEW that OLD lacks
    dirs: Optional[list] = None          # (dir, old_bytes, new_bytes), largest change first
    files: Optional[list] = None         # FileChange, largest change first

    @property
    def growth(self) -> int:
        return self.new.totals["final_bytes"] - self.old.totals["final_bytes"]

    def notes(self) -> list:
        out = []
        for side, v in (("old", self.old), ("new", self.new)):
            if v.files is None:
                out.append(NO_FILES.format(what=f"the {side} side ({v.origin})"))
        return out


def _dir_sums(files: dict, depth: int) -> dict:
    sums: dict = {}
    for path, (_, n, _) in files.items():
        if not n:
            continue
        parts = path.strip("/").split("/")[:-1]
        for d in range(1, min(depth, len(parts)) + 1):
            key = "/" + "/".join(parts[:d])
            sums[key] = sums.get(key, 0) + n
    return sums


def _multiset_split(a: list, b: list):
    """Layers of b whose diff_id a has too (counting repeats), and the rest of each."""
    pool: dict = {}
    for l in a:
        pool[l["diff_id"]] = pool.get(l["diff_id"], 0) + 1
    shared, added = [], []
    for l in b:
        if pool.get(l["diff_id"], 0) > 0:
            pool[l["diff_id"]] -= 1
            shared.append(l)
        else:
            added.append(l)
    left: dict = {}
    for l in b:
        left[l["diff_id"]] = left.get(l["diff_id"], 0) + 1
    removed = []
    for l in a:
        if left.get(l["diff_id"], 0) > 0:
            left[l["diff_id"]] -= 1
        else:
            removed.append(l)
    return shared, removed, added


def compare(old: ImageView, new: ImageView, depth: int = 3) -> Diff:
    totals = {k: (old.totals.get(k), new.totals.get(k)) for k in TOTAL_KEYS}
    shared, removed, added = _multiset_split(old.layers, new.layers)
    d = Diff(old, new, totals, shared, removed, added)
    if old.files is None or new.files is None:
        return d
    changes = []
    for path in old.files.keys() | new.files.keys():
        o, n = old.files.get(path), new.files.get(path)
        if o is None:
            if n[0] != "dir":
                changes.append(FileChange(path, "added", 0, n[1]))
        elif n is None:
            if o[0] != "dir":
                changes.append(FileChange(path, "removed", o[1], 0))
        elif n[1] != o[1]:
            changes.append(FileChange(path, "grew" if n[1] > o[1] else "shrank", o[1], n[1]))
        elif n[1] and o[2] and n[2] and o[2] != n[2]:
            changes.append(FileChange(path, "changed", o[1], n[1]))
    changes.sort(key=lambda c: (-abs(c.delta), -c.new_bytes, c.path))
    d.files = changes
    so, sn = _dir_sums(old.files, depth), _dir_sums(new.files, depth)
    dirs = [(k, so.get(k, 0), sn.get(k, 0)) for k in so.keys() | sn.keys()
            if so.get(k, 0) != sn.get(k, 0)]
    dirs.sort(key=lambda t: (-abs(t[2] - t[1]), t[0]))
    d.dirs = dirs
    return d


def to_json(d: Diff, top: Optional[int] = None) -> dict:
    def side(v: ImageView) -> dict:
        return {"reference": v.reference, "id": v.id, "origin": v.origin}

    def layer(l: dict) -> dict:
        return {k: l.get(k) for k in ("index", "diff_id", "created_by", "bytes", "compressed_bytes")}

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
