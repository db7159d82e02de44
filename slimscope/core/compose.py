"""Apply layer indexes in order with the OCI whiteout rules.

The result is the final tree plus a ledger of every content unit (one regular
file body stored in one layer): whether the final filesystem shows it, and if
not, which layer hid it and how. Entries are referred to by a packed int
`layer << 32 | entry`, which keeps the final tree a dict of str -> int.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from collections.abc import Set as AbcSet
from dataclasses import dataclass, field
from itertools import compress
from typing import Optional

from slimscope.core.masks import UnitSet, shown_hardlinks, shown_of_kind
from slimscope.errors import BadInput
from slimscope.index.records import (
    DIR,
    FILE,
    HARDLINK,
    IS_FILE,
    KIND_NAMES,
    OPAQUE,
    SYMLINK,
    WHITEOUT,
    LayerIndex,
    kind_table,
)

# Per-entry status of a layer's entries, relative to the tree below it.
ADDED, MODIFIED, METADATA, UNCHANGED, DELETED, OPAQUED = range(6)
STATUS_NAMES = ("added", "modified", "metadata-only", "unchanged", "deleted", "opaque")

REASONS = ("deleted", "opaque", "overwritten", "metadata-only", "replaced")

_NOT_DIR = kind_table(*(k for k in range(len(KIND_NAMES)) if k != DIR))


def _depth(path: str) -> int:
    return 0 if path == "/" else path.count("/")


def pack(layer: int, entry: int) -> int:
    return (layer << 32) | entry


def unpack(ref: int) -> tuple[int, int]:
    return ref >> 32, ref & 0xFFFFFFFF


@dataclass(slots=True)   # one per hidden unit: no per-object __dict__
class Hidden:
    layer: int    # the layer that hid it
    reason: str
    path: str     # the path under which it was last visible


@dataclass
class Composed:
    layers: list[LayerIndex]          # per layer
    final: dict[str, int]             # path -> ref of the entry that defines it
    status: list[bytearray]           # per layer: statuses, one per entry
    hardlink_unit: dict[int, int] = field(default_factory=dict)   # hardlink ref -> unit ref
    hidden: dict[int, Hidden] = field(default_factory=dict)       # unit ref -> last hide event
    visible: AbcSet[int] = field(default_factory=set)   # unit refs the final tree shows (UnitSet)
    hashed: bool = True
    # units of lazy indexes whose digests would decide whether a file was stored again
    # with the same content (metadata-only) or new content: read them, compose again
    undecided: list[int] = field(default_factory=list)
    # per layer, per entry: the first layer whose tree no longer shows the entry (its
    # layer for whiteouts, opaque markers and entries restated later in their own tar;
    # the number of layers when the final tree shows it). Entry (li, i) is in the tree
    # composed through layer L exactly when li <= L < ends[li][i].
    ends: list[array[int]] = field(default_factory=list)
    # per layer, one byte per entry: 1 where the final tree shows the entry (its ends
    # is the number of layers); empty when compose could not read it from ends
    in_final: list[bytes] = field(default_factory=list)

    def entry_kind(self, ref: int) -> int:
        layer, i = unpack(ref)
        kind: int = self.layers[layer].kinds[i]
        return kind

    def unit_of(self, ref: int) -> Optional[int]:
        """The content unit a file or hardlink entry shows, else None."""
        kind = self.entry_kind(ref)
        if kind == FILE:
            return ref
        if kind == HARDLINK:
            return self.hardlink_unit.get(ref)
        return None

    def unit_size(self, unit: int) -> int:
        layer, i = unpack(unit)
        size: int = self.layers[layer].sizes[i]
        return size

    def units(self) -> Iterator[int]:
        """Every content unit of every layer, in order."""
        for li, idx in enumerate(self.layers):
            kinds = idx.kinds
            for i in range(len(kinds)):
                if kinds[i] == FILE:
                    yield pack(li, i)

    def wasted(self) -> Iterator[tuple[int, Hidden]]:
        """(unit, Hidden) for every unit the final tree does not show."""
        for unit in self.units():
            if unit not in self.visible:
                yield unit, self.hidden.get(unit) or Hidden(unpack(unit)[0], "overwritten", "")


class _Composer:
    def __init__(self, layers: list[LayerIndex]):
        self.layers = layers
        self.final: dict[str, int] = {}
        self.hardlink_unit: dict[int, int] = {}
        self.hidden: dict[int, Hidden] = {}
        # a lazy index counts: the digests it lacks are read when they are needed
        self.hashed = all(idx.hashed or idx.lazy for idx in layers)
        self.undecided: list[int] = []
        self.ends = [array("H", [len(layers)]) * len(idx) for idx in layers]

    def unit_of(self, ref: int) -> Optional[int]:
        layer, i = unpack(ref)
        kind = self.layers[layer].kinds[i]
        if kind == FILE:
            return ref
        if kind == HARDLINK:
            return self.hardlink_unit.get(ref)
        return None

    def hide(self, ref: int, path: str, by_layer: int, reason: str) -> None:
        unit = self.unit_of(ref)
        if unit is not None:
            self.hidden[unit] = Hidden(by_layer, reason, path)

    def drop_subtrees(self, roots: dict[str, str], parents: dict[str, str], by_layer: int) -> None:
        """Remove lower-layer paths: each root with its subtree, and the subtree of each parent.

        Both map a path to the reason recorded for what they hide. Entries of
        `by_layer` itself stay: whiteouts speak of lower layers only.
        """
        final = self.final
        # The nearest covering ancestor gives the reason (at one level a parent's before a
        # root's), and a root that is the path itself beats them all. Subtrees are found by
        # bisecting the sorted paths: everything under D sorts between D + "/" and D + "0".
        keys = sorted(final)
        reason_of: dict[str, str] = {}
        covers = sorted([(_depth(d), 0, d, r) for d, r in roots.items()] +
                        [(_depth(d), 1, d, r) for d, r in parents.items()])
        for _, _, d, reason in covers:
            prefix = "/" if d == "/" else d + "/"
            j = bisect_left(keys, prefix)
            n = len(keys)
            while j < n and keys[j].startswith(prefix):
                if keys[j] != d:
                    reason_of[keys[j]] = reason
                j += 1
        for d, reason in roots.items():
            if d in final:
                reason_of[d] = reason
        del keys
        if not reason_of:
            return
        doomed = [(path, ref, reason_of[path]) for path, ref in final.items()
                  if path in reason_of and (ref >> 32) < by_layer]
        ends = self.ends
        for path, ref, reason in doomed:
            del final[path]
            ends[ref >> 32][ref & 0xFFFFFFFF] = by_layer
            self.hide(ref, path, by_layer, reason)

    def apply(self, li: int, idx: LayerIndex) -> bytearray:
        added = self._add_all(li, idx)
        if added is not None:
            return added
        status = bytearray(len(idx))
        kinds, paths = idx.kinds, idx.paths
        roots: dict[str, str] = {}
        opaque: dict[str, str] = {}
        ends = self.ends
        for i in range(len(kinds)):
            k = kinds[i]
            if k == WHITEOUT:
                _check_whiteout(li, paths[i])
                roots[paths[i]] = "deleted"
                status[i] = DELETED
                ends[li][i] = li
            elif k == OPAQUE:
                opaque[paths[i]] = "opaque"
                status[i] = OPAQUED
                ends[li][i] = li
        # Whiteouts speak of lower layers only, whatever their place in this tar.
        if roots or opaque:
            self.drop_subtrees(roots, opaque, li)
        final = self.final
        replaced_dirs: dict[str, str] = {}
        # Entries come grouped by directory: a parent found sound stays so until a
        # non-directory lands on it or above it, so most entries skip the walk up.
        sound = ""
        base = li << 32
        for i in range(len(kinds)):
            k = kinds[i]
            if k == WHITEOUT or k == OPAQUE:
                continue
            path = paths[i]
            ref = base | i
            if path == "/":
                raise BadInput(f"layer {li}: an entry named \"\" or \".\" would make the root "
                               f"directory a {KIND_NAMES[k]}, which no engine can apply")
            parent = path[:path.rfind("/")]
            if parent != sound:
                self._check_parent(li, path)
                sound = parent
            prev = final.get(path)
            if prev is None:
                status[i] = ADDED
            else:
                pl, pi = prev >> 32, prev & 0xFFFFFFFF
                ends[pl][pi] = li
                lower = self.layers[pl]
                pk = lower.kinds[pi]
                if pk == DIR and k == DIR:
                    same = (lower.modes[pi] == idx.modes[i] and lower.uids[pi] == idx.uids[i]
                            and lower.gids[pi] == idx.gids[i])
                    status[i] = UNCHANGED if same else METADATA
                elif pk == DIR:
                    status[i] = MODIFIED
                    replaced_dirs[path] = "replaced"
                else:
                    if k == FILE and self._same_content(prev, li, idx, i):
                        status[i] = METADATA
                        reason = "metadata-only"
                    else:
                        status[i] = MODIFIED
                        reason = "overwritten" if k in (FILE, HARDLINK) and pk in (FILE, HARDLINK) \
                            else "replaced"
                    self.hide(prev, path, li, reason)
            if k == HARDLINK:
                target = final.get(idx.links[i])
                unit = None if target is None else self.unit_of(target)
                if unit is None:
                    raise BadInput(f"layer {li}: hardlink {path} points at {idx.links[i]}, "
                                   "which is not a regular file at that point")
                self.hardlink_unit[ref] = unit
            final[path] = ref
            if k != DIR and sound.startswith(path):
                sound = ""
        if replaced_dirs:
            # A non-directory over a lower directory takes its lower subtree with it.
            self.drop_subtrees({}, replaced_dirs, li)
        return status

    def _add_all(self, li: int, idx: LayerIndex) -> Optional[bytearray]:
        """A layer that only adds new paths, none of them below a non-directory: every
        entry ADDED, the tree extended in tar order; None when it is not such a layer,
        and the walk entry by entry decides (and names what is wrong, if anything).

        Most layers of most images are such layers (a package or an app added); this
        decides it with set operations instead of a Python step per entry. It gives
        what the walk would: with no entry present below, no whiteout and no hardlink,
        the walk marks each entry ADDED and changes nothing else, and it refuses the
        layer only when an entry lies below a non-directory, of the tree below (the
        parent checks here) or of this layer (the ancestor test here).
        """
        kinds, paths = idx.kinds, idx.paths
        if not paths or WHITEOUT in kinds or OPAQUE in kinds or HARDLINK in kinds:
            return None
        final = self.final
        names = set(paths)
        if len(names) != len(paths) or "/" in names or not final.keys().isdisjoint(names):
            return None
        parents = {p[:p.rfind("/")] for p in paths}
        parents.discard("")
        ancestors: set[str] = set()
        for p in parents:
            while p and p not in ancestors:
                ancestors.add(p)
                p = p[:p.rfind("/")]
        if not ancestors.isdisjoint(compress(paths, kinds.translate(_NOT_DIR))):
            return None
        try:
            for p in parents:
                self._check_parent(li, p + "/")
        except BadInput:
            return None
        base = li << 32
        final.update(zip(paths, range(base, base + len(paths))))
        return bytearray([ADDED]) * len(paths)

    def _check_parent(self, li: int, path: str) -> None:
        """Refuse an entry whose path passes through a non-directory of the tree so far.

        An engine applying the layer would follow a symlink there (`link -> /etc` below,
        `link/evil` here writes /etc/evil) or fail on a file: either way the image is not
        what its entries say. Only the nearest ancestor in the tree is looked at: every
        entry is checked as it arrives, and a non-directory over a directory drops that
        directory's subtree, so nothing in the tree already lies below a non-directory.
        """
        final = self.final
        parent = path
        while True:
            cut = parent.rfind("/")
            parent = parent[:cut] if cut > 0 else "/"
            if parent == "/":
                return
            ref = final.get(parent)
            if ref is not None:
                break
        pl, pi = unpack(ref)
        lower = self.layers[pl]
        kind = lower.kinds[pi]
        if kind == DIR:
            return
        if kind == SYMLINK:
            raise BadInput(f"layer {li}: {path} passes through the symlink {parent} "
                           f"(-> {lower.links.get(pi, '?')}) of layer {pl}: an engine would "
                           "write it through the link, somewhere else")
        raise BadInput(f"layer {li}: {path} lies under {parent}, which is a "
                       f"{KIND_NAMES[kind]} (layer {pl}), not a directory")

    def _same_content(self, prev: int, li: int, idx: LayerIndex, i: int) -> bool:
        unit = self.unit_of(prev)
        if unit is None or not self.hashed:
            return False
        ul, ui = unpack(unit)
        lower = self.layers[ul]
        if lower.sizes[ui] != idx.sizes[i]:
            return False
        if lower.wants_digest(ui) or idx.wants_digest(i):
            # a lazy index has not read one of the two yet: for build() to read, then
            # to compose again
            self.undecided += (unit, pack(li, i))
            return False
        return bool(lower.digests[ui * 32:(ui + 1) * 32] == idx.digests[i * 32:(i + 1) * 32])


def _check_whiteout(li: int, path: str) -> None:
    name = path.rsplit("/", 1)[-1]
    if path == "/" or name in ("", ".", ".."):
        raise BadInput(f"layer {li}: a whiteout of {path!r} would delete the root or climb "
                       "out of it; no engine applies that")


def compose(layers: list[LayerIndex]) -> Composed:
    """Compose LayerIndex objects (lowest first) into the final tree and ledger."""
    c = _Composer(layers)
    statuses = [c.apply(li, idx) for li, idx in enumerate(layers)]
    marked = _in_final(c)
    visible = _visible_by_ends(c, marked) if marked else _visible_by_paths(c)
    return Composed(layers, c.final, statuses, c.hardlink_unit, c.hidden, visible, c.hashed,
                    c.undecided, c.ends, marked)


def _in_final(c: _Composer) -> list[bytes]:
    """Per layer, 1 for each entry the final tree shows: those whose `ends` is the
    number of layers. Empty when the marks are not as many as the tree's paths (which
    the walk never leaves so); the consumers then go path by path."""
    n_layers = len(c.layers)
    marked = [bytes(map(n_layers.__eq__, ends)) for ends in c.ends]
    return marked if sum(m.count(1) for m in marked) == len(c.final) else []


def _visible_by_ends(c: _Composer, marked: list[bytes]) -> UnitSet:
    """The units the final tree shows, a layer at a time in C: a regular file the tree
    shows, and the unit of each hardlink it shows."""
    rows = [bytearray(m) for m in shown_of_kind(marked, c.layers, IS_FILE)]
    for _, unit in shown_hardlinks(marked, c.hardlink_unit):
        rows[unit >> 32][unit & 0xFFFFFFFF] = 1
    return UnitSet.of_rows(rows)


def _visible_by_paths(c: _Composer) -> UnitSet:
    layers = c.layers
    visible = UnitSet(len(idx) for idx in layers)
    # c.unit_of and visible.add, inline: this runs once per path of the final tree
    flags, kinds, links, n = visible._flags, [idx.kinds for idx in layers], c.hardlink_unit, 0
    for ref in c.final.values():
        k = kinds[ref >> 32][ref & 0xFFFFFFFF]
        if k == FILE:
            unit = ref
        elif k == HARDLINK:
            got = links.get(ref)
            if got is None:
                continue
            unit = got
        else:
            continue
        row, i = flags[unit >> 32], unit & 0xFFFFFFFF
        if not row[i]:
            row[i] = 1
            n += 1
    visible._n = n
    return visible
