"""The compact data a report page's script needs, built from the JSON documents.

A tree travels as four flat arrays in preorder instead of one object per path, so a
200,000-file image stays a few megabytes: `n` the names, `v` a leaf's bytes or, for
a directory, `~children` (negative, so one array says both), `k` an index into
`kinds`, and `x` a sparse map of extra hover text (a link target, an old size).
Each kind carries its hover text (`kt`) and its legend entry (`c`, -1 for a
directory), so the script knows nothing of layers, reasons or diffs: it draws
whatever tree it is given.
"""

from __future__ import annotations

import stat
from typing import Any, Union

from slimscope.core.fmt import layer_command, short_command, size
from slimscope.core.paths import FinalTable

# Tableau 10 and two more: distinct on screen and for most colour-blind readers.
LAYER_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295"]
REASON_COLOURS = {"deleted": "#e15759", "opaque": "#f28e2b", "overwritten": "#b07aa1",
                  "metadata-only": "#edc948", "replaced": "#4e79a7"}
CHANGE_COLOURS = {"added": "#59a14f", "grew": "#f28e2b", "removed": "#e15759",
                  "shrank": "#76b7b2"}
Doc = dict[str, Any]
Leaf = tuple[str, int, int, str]          # name, bytes, kind, extra hover text

_TYPE_BITS = {"file": stat.S_IFREG, "hardlink": stat.S_IFREG, "dir": stat.S_IFDIR,
              "symlink": stat.S_IFLNK, "char": stat.S_IFCHR, "block": stat.S_IFBLK,
              "fifo": stat.S_IFIFO}


class _Node:
    __slots__ = ("dirs", "leaves", "kind", "total")

    def __init__(self) -> None:
        self.dirs: dict[str, _Node] = {}
        self.leaves: list[Leaf] = []
        self.kind = -1                # a real directory's kind; -1 for one only implied by paths
        self.total = 0


class TreeBuilder:
    """Paths in any order in, the preorder arrays out; children largest first."""

    def __init__(self) -> None:
        self.root = _Node()
        self.kinds: list[tuple[Any, ...]] = []
        self.kind_text: list[str] = []
        self.kind_legend: list[int] = []
        self._kind_ids: dict[tuple[Any, ...], int] = {}

    def kind(self, key: tuple[Any, ...], text: str, legend: int) -> int:
        k = self._kind_ids.get(key)
        if k is None:
            k = self._kind_ids[key] = len(self.kinds)
            self.kinds.append(key)
            self.kind_text.append(text)
            self.kind_legend.append(legend)
        return k

    def _dir(self, parts: list[str]) -> _Node:
        node = self.root
        for part in parts:
            nxt = node.dirs.get(part)
            if nxt is None:
                nxt = node.dirs[part] = _Node()
            node = nxt
        return node

    def add_dir(self, path: str, kind: int) -> None:
        self._dir([p for p in path.split("/") if p]).kind = kind

    def add_leaf(self, path: str, nbytes: int, kind: int, extra: str = "") -> None:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return
        self._dir(parts[:-1]).leaves.append((parts[-1], nbytes, kind, extra))

    def encode(self) -> Doc:
        # Totals bottom-up without recursion: a path may be deeper than Python's stack.
        order: list[_Node] = []
        nodes = [self.root]
        while nodes:
            node = nodes.pop()
            order.append(node)
            nodes.extend(node.dirs.values())
        for node in reversed(order):
            node.total = sum(n for _, n, _, _ in node.leaves) + sum(
                d.total for d in node.dirs.values())
        names: list[str] = []
        values: list[int] = []
        kinds: list[int] = []
        extra: dict[int, str] = {}
        stack: list[tuple[str, Union[_Node, Leaf]]] = [("", self.root)]
        while stack:
            name, item = stack.pop()
            if isinstance(item, _Node):
                kids: list[tuple[int, str, Union[_Node, Leaf]]] = [
                    (d.total, n, d) for n, d in item.dirs.items()]
                kids += [(leaf[1], leaf[0], leaf) for leaf in item.leaves]
                kids.sort(key=lambda t: (-t[0], t[1]))
                names.append(name)
                values.append(~len(kids))
                kinds.append(item.kind)
                stack.extend((n, x) for _, n, x in reversed(kids))
            else:
                if item[3]:
                    extra[len(names)] = item[3]
                names.append(name)
                values.append(item[1])
                kinds.append(item[2])
        return {"n": names, "v": values, "k": kinds, "x": extra, "kt": self.kind_text,
                "c": self.kind_legend, "total": self.root.total}


def _mode_text(rec: Doc) -> str:
    return stat.filemode(_TYPE_BITS.get(rec["type"], 0) | (rec["mode"] or 0))


def _layer_legend(layers: list[Doc]) -> list[list[str]]:
    return [[f"layer {l['index']}: {short_command(layer_command(l), 48)}",
             LAYER_COLOURS[l["index"] % len(LAYER_COLOURS)]] for l in layers]


def final_tree(doc: Doc) -> Doc:
    """The final filesystem by bytes, coloured by the layer that stored each file."""
    records = doc.get("files") or []
    # The core's path table decides what each path counts (a hardlink whose twin is
    # still there counts nothing), so the tiles add up to final_bytes.
    table = FinalTable.of_records(records, "the report")
    row, bytes_of = table.group, table.counted.tolist()
    b = TreeBuilder()
    for rec in records:
        layer = rec["layer"]
        text = f"{_mode_text(rec)} {rec['uid']}:{rec['gid']} · from layer {layer}"
        key = (rec["type"], rec["mode"], rec["uid"], rec["gid"], layer)
        if rec["type"] == "dir":
            b.add_dir(rec["path"], b.kind(key, text, -1))
            continue
        extra = ""
        if rec["type"] == "symlink":
            extra = f"→ {rec['link']}"
        elif rec["type"] == "hardlink":
            extra = f"hard link to {rec['link']}" + (
                "" if bytes_of[row[rec["path"]]] else " (its bytes are counted there)")
        b.add_leaf(rec["path"], bytes_of[row[rec["path"]]], b.kind(key, text, layer), extra)
    out = b.encode()
    out.update(id="final", label="Final filesystem", legend=_layer_legend(doc["layers"]),
               unit="bytes the final filesystem shows")
    return out


def waste_tree(doc: Doc) -> Doc:
    """Stored bytes the final filesystem hides, coloured by why they are hidden."""
    reasons = list(REASON_COLOURS)
    b = TreeBuilder()
    for w in doc.get("waste") or []:
        text = (f"{w['reason']}: stored in layer {w['layer']}, hidden by layer {w['hidden_by']}"
                + (" · looks like a secret" if w.get("sensitive") else ""))
        key = (w["reason"], w["layer"], w["hidden_by"], bool(w.get("sensitive")))
        b.add_leaf(w["path"], w["bytes"], b.kind(key, text, reasons.index(w["reason"])))
    out = b.encode()
    out.update(id="waste", label="Waste", legend=[[r, c] for r, c in REASON_COLOURS.items()],
               unit="stored bytes that no final path shows")
    return out


def _change_tree(diff_doc: Doc, tid: str, label: str, changes: tuple[str, ...],
                 unit: str) -> Doc:
    b = TreeBuilder()
    for f in diff_doc.get("files") or []:
        if f["change"] not in changes:
            continue
        text = f"{f['change']}: {size(f['old_bytes'])} → {size(f['new_bytes'])}"
        b.add_leaf(f["path"], abs(f["delta"]),
                   b.kind((f["change"],), f["change"], changes.index(f["change"])), text)
    out = b.encode()
    out.update(id=tid, label=label, legend=[[c, CHANGE_COLOURS[c]] for c in changes], unit=unit)
    return out


def analysis_trees(doc: Doc) -> list[Doc]:
    return [final_tree(doc), waste_tree(doc)]


def diff_trees(diff_doc: Doc) -> list[Doc]:
    return [_change_tree(diff_doc, "growth", "Growth", ("added", "grew"),
                         "bytes added or grown in NEW"),
            _change_tree(diff_doc, "shrink", "Shrinkage", ("removed", "shrank"),
                         "bytes removed or shrunk in NEW")]
