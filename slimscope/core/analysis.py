"""The analysis every consumer reads: totals, layers, the waste ledger, duplicates, hints."""

from __future__ import annotations

from slimscope import schemas

import zlib
from array import array
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import eq
from typing import Optional

from slimscope.image.model import Image, Options
from slimscope.image.reference import load_image
from slimscope.core.compose import (ADDED, DELETED, METADATA, MODIFIED, OPAQUED, Composed, compose,
                               pack, unpack)
from slimscope.index.cache import IndexCache
from slimscope.index.records import FILE, HARDLINK, KIND_NAMES
from slimscope.core.secrets import looks_secret

SCHEMA = schemas.ANALYSIS


@dataclass
class LayerReport:
    index: int
    digest: str
    diff_id: str
    created_by: str
    created: str
    bytes: int                 # sum of its content units
    tar_bytes: int             # its uncompressed tar, headers and padding included
    compressed_bytes: Optional[int]   # as stored when compressed, or measured; None if unknown
    files: int                 # entries other than whiteouts
    added: int = 0
    modified: int = 0
    deleted: int = 0
    metadata_only: int = 0
    wasted_bytes: int = 0      # bytes of its units that later layers hide
    hides_bytes: int = 0       # bytes of lower layers' units that it hides
    comment: str = ""

    @property
    def command(self) -> str:
        """What made the layer, for display: its command, else its history comment."""
        return self.created_by or self.comment


@dataclass(slots=True)   # one per wasted unit: no per-object __dict__
class WasteItem:
    path: str
    bytes: int
    layer: int
    hidden_by: int
    reason: str
    sensitive: bool
    digest: Optional[str]
    unit: int = field(repr=False, default=0)


@dataclass
class Duplicate:
    digest: str
    bytes: int       # size of one copy
    paths: list
    savable: int     # what keeping a single copy would save


@dataclass
class Analysis:
    image: Image
    composed: Composed
    layers: list
    waste: list
    duplicates: list
    hints: list = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(l.bytes for l in self.layers)

    @property
    def wasted_bytes(self) -> int:
        return sum(w.bytes for w in self.waste)

    @property
    def final_bytes(self) -> int:
        return self.total_bytes - self.wasted_bytes

    @property
    def efficiency(self) -> float:
        total = self.total_bytes
        return 1.0 if total == 0 else self.final_bytes / total

    @property
    def hashed(self) -> bool:
        return self.composed.hashed

    @property
    def secrets(self) -> list:
        return [w for w in self.waste if w.sensitive]

    @property
    def compressed_bytes(self) -> Optional[int]:
        sizes = [l.compressed_bytes for l in self.layers]
        return None if any(s is None for s in sizes) else sum(sizes)

    def layer_label(self, i: int) -> str:
        return f"layer {i}"

    def entry(self, path: str) -> Optional[dict]:
        ref = self.composed.final.get(path)
        return None if ref is None else self._file_record(path, ref)

    def _file_record(self, path: str, ref: int) -> dict:
        li, i = unpack(ref)
        idx = self.composed.layers[li]
        kind = idx.kinds[i]
        size = idx.sizes[i]
        digest = idx.digest(i) if kind == FILE else None
        if kind == HARDLINK:
            unit = self.composed.hardlink_unit.get(ref)
            if unit is not None:
                ul, ui = unpack(unit)
                size = self.composed.layers[ul].sizes[ui]
                digest = self.composed.layers[ul].digest(ui)
        return {"path": path, "type": KIND_NAMES[kind], "size": size, "mode": idx.modes[i],
                "uid": idx.uids[i], "gid": idx.gids[i], "layer": li,
                "link": idx.links.get(i), "mtime": idx.mtimes[i],
                "digest": ("sha256:" + digest.hex()) if digest else None}

    def files(self):
        """Every path of the final filesystem, sorted, as JSON-ready records."""
        final = self.composed.final
        for path in sorted(final):
            yield self._file_record(path, final[path])


def _history_pairs(config: dict, n_layers: int) -> list:
    """Pair history entries with layers; entries marked empty_layer have none."""
    out = []
    for h in config.get("history") or []:
        if not h.get("empty_layer"):
            out.append(h)
    out = out[:n_layers]
    while len(out) < n_layers:
        out.append({})
    return out


# bytes.translate table: 1 for a regular file's kind, 0 for any other.
_IS_FILE = bytes(int(k == FILE) for k in range(256))


def build(image: Image) -> Analysis:
    composed = compose([l.index for l in image.layers])
    history = _history_pairs(image.config, len(image.layers))
    reports = []
    for layer, hist, status in zip(image.layers, history, composed.status):
        idx = layer.index
        unit_bytes = sum(compress(idx.sizes, idx.kinds.translate(_IS_FILE)))
        counts = [status.count(s) for s in range(6)]
        reports.append(LayerReport(
            index=layer.position, digest=layer.digest, diff_id=layer.diff_id,
            created_by=hist.get("created_by", ""), created=hist.get("created", ""),
            bytes=unit_bytes, tar_bytes=layer.size,
            compressed_bytes=layer.stored_bytes if layer.compressed else None,
            files=len(idx) - counts[DELETED] - counts[OPAQUED],
            added=counts[ADDED], modified=counts[MODIFIED], deleted=counts[DELETED] + counts[OPAQUED],
            metadata_only=counts[METADATA], comment=hist.get("comment", "")))
    waste = []
    for unit, hidden in _wasted(composed):
        li, i = unpack(unit)
        idx = composed.layers[li]
        size = idx.sizes[i]
        path = idx.paths[i]
        digest = idx.digest(i)
        shown_as = hidden.path or path
        # Most units were last shown under their own path: one test then answers for both.
        sensitive = looks_secret(path) or (shown_as != path and looks_secret(shown_as))
        waste.append(WasteItem(path, size, li, hidden.layer, hidden.reason, sensitive,
                               ("sha256:" + digest.hex()) if digest else None, unit))
        reports[li].wasted_bytes += size
        reports[hidden.layer].hides_bytes += size
    waste.sort(key=lambda w: (not w.sensitive, -w.bytes, w.path))
    duplicates = _duplicates(composed, (w.unit for w in waste))
    analysis = Analysis(image, composed, reports, waste, duplicates)
    from slimscope.core.hints import find_hints
    analysis.hints = find_hints(analysis)
    return analysis


def _wasted(composed: Composed):
    """What composed.wasted() yields, in its order, without a membership test per unit.

    A unit leaves the final tree only by being hidden, so the wasted units are the
    hidden ones the tree does not show again (through a hardlink). The counts check
    it: should some unit be neither hidden nor visible, the slow way answers.
    """
    layers, hidden, visible = composed.layers, composed.hidden, composed.visible
    units = [u for u in sorted(hidden)
             if layers[u >> 32].kinds[u & 0xFFFFFFFF] == FILE and u not in visible]
    if len(units) + len(visible) != sum(idx.kinds.count(FILE) for idx in layers):
        yield from composed.wasted()
        return
    for u in units:
        yield u, hidden[u]


def _prefixes(idx) -> array:
    """The first 8 bytes of each entry's digest, as ints in native byte order (they are
    only compared with each other), read in place rather than copying every digest."""
    with memoryview(idx.digests) as raw, raw.cast("Q") as words, words[::4] as firsts:
        return array("Q", firsts.tobytes())


def _duplicates(composed: Composed, wasted_units=None) -> list:
    if not composed.hashed:
        return []
    layers = composed.layers
    if wasted_units is None:
        wasted_units = (unit for unit, _ in _wasted(composed))
    # The units shown are the files that are not wasted: one flag per entry.
    shown = [idx.kinds.translate(_IS_FILE) for idx in layers]
    for unit in wasted_units:
        shown[unit >> 32][unit & 0xFFFFFFFF] = 0
    # Keep memory flat: first find the digests (by their first 8 bytes) that more than
    # one shown unit has: the prefixes of the shown units, split four ways by their top
    # bits, each part sorted on its own; then group only those.
    quarters = [array("Q") for _ in range(4)]
    for idx, flags in zip(layers, shown):
        for x in compress(compress(_prefixes(idx), flags), compress(idx.sizes, flags)):
            quarters[x >> 62].append(x)
    del shown
    twice = set()
    for q in range(4):
        seen = sorted(quarters[q])
        quarters[q] = None
        twice.update(compress(seen, map(eq, seen, islice(seen, 1, None))))
        del seen
    by_digest: dict = {}
    if twice:
        # File and hardlink refs -> the unit they show, for the units worth grouping: one
        # dict look-up per path then stands for composed.unit_of and the size and prefix tests.
        shows: dict = {}
        for li, idx in enumerate(layers):
            for i in compress(range(len(idx)), map(twice.__contains__, _prefixes(idx))):
                if idx.kinds[i] == FILE and idx.sizes[i]:
                    shows[pack(li, i)] = pack(li, i)
        for ref, unit in composed.hardlink_unit.items():
            if unit in shows and composed.entry_kind(ref) == HARDLINK:
                shows[ref] = unit
        for path, ref in composed.final.items():
            unit = shows.get(ref)
            if unit is None:
                continue
            li, i = unpack(unit)
            d = bytes(layers[li].digests[i * 32:(i + 1) * 32])
            by_digest.setdefault(d, {}).setdefault(unit, []).append(path)
    out = []
    for d, units in by_digest.items():
        if len(units) < 2:
            continue
        li, i = unpack(next(iter(units)))
        size = composed.layers[li].sizes[i]
        paths = sorted(p for ps in units.values() for p in ps)
        out.append(Duplicate("sha256:" + d.hex(), size, paths, size * (len(units) - 1)))
    out.sort(key=lambda d: (-d.savable, d.paths[0]))
    return out


def analyze(name: str, hash_contents: bool = True, image: Optional[str] = None,
            platform: Optional[str] = None, use_cache: bool = True, progress=None) -> Analysis:
    """Open any source and analyze it: the one entry point the commands use."""
    opts = Options(hash_contents=hash_contents, image=image, platform=platform,
                   cache=IndexCache(enabled=use_cache), progress=progress)
    return build(load_image(name, opts))


def measure_compressed(analysis: Analysis, level: int = 6) -> None:
    """Fill in compressed sizes of layers stored uncompressed, gzip-compressing them
    the way a push would. Costs a second read of those layers."""
    missing = {l.index for l in analysis.layers if l.compressed_bytes is None}
    if not missing:
        return
    for positions, stream in analysis.image.source.layer_streams(analysis.image):
        if not missing.intersection(positions):
            continue
        z = zlib.compressobj(level, zlib.DEFLATED, 31)
        n = 0
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            n += len(z.compress(chunk))
        n += len(z.flush())
        for p in positions:
            analysis.layers[p].compressed_bytes = n
            missing.discard(p)
