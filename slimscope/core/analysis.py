"""The analysis every consumer reads: totals, layers, the waste ledger, duplicates, hints.

`build` makes it from an opened image; the records it holds are in core/records.py.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, compress
from typing import TYPE_CHECKING, Any, Optional

from slimscope import schemas
from slimscope.core.compose import (
    ADDED,
    DELETED,
    METADATA,
    MODIFIED,
    OPAQUED,
    Composed,
    Hidden,
    compose,
    unpack,
)
from slimscope.core.duplicates import find_duplicates, sharing_a_size
from slimscope.core.hints import Hint, find_hints
from slimscope.core.masks import and_masks, shown_hardlinks, shown_of_kind
from slimscope.core.records import Duplicate, FileRecord, LayerReport, WasteItem
from slimscope.core.secrets import looks_secret
from slimscope.image.model import Image, LayerCallback, Options
from slimscope.image.reference import load_image, sketch_image
from slimscope.index.cache import IndexCache
from slimscope.index.records import FILE, HARDLINK, IS_FILE, KIND_NAMES, kind_table
from slimscope.index.streams import Progress

if TYPE_CHECKING:   # numpy is imported only when a path table is asked for
    from slimscope.core.paths import FinalTable

SCHEMA = schemas.ANALYSIS


def _top_by_marks(c: Composed, top: int) -> Optional[list[tuple[int, str, int]]]:
    """What largest_files' candidates() gives heapq.nsmallest(top, ...), read from the
    final tree's marks (Composed.in_final) a layer at a time in C instead of a step per
    path: the top-th biggest size shown is found among the sizes alone, and only files
    at least that big become candidates. None without marks."""
    if not c.in_final or top <= 0:
        return None
    layers = c.layers
    shown = shown_of_kind(c.in_final, layers, IS_FILE)
    links = [(ref, -c.unit_size(unit)) for ref, unit in shown_hardlinks(c.in_final, c.hardlink_unit)]
    if len(links) != sum(m.count(1) for m in shown_of_kind(c.in_final, layers, _IS_HARDLINK)):
        return None   # a shown hardlink without a unit: candidates() sizes it itself
    sizes = chain(chain.from_iterable(compress(idx.sizes, f) for idx, f in zip(layers, shown)),
                  (-neg for _, neg in links))
    biggest = heapq.nlargest(top, sizes)
    if not biggest:
        return []
    least = biggest[-1]
    picked = [(-idx.sizes[i], idx.paths[i], li << 32 | i)
              for li, (idx, f) in enumerate(zip(layers, shown))
              for i in compress(range(len(idx)), and_masks(f, bytes(map(least.__le__, idx.sizes))))]
    picked += [(neg, layers[ref >> 32].paths[ref & 0xFFFFFFFF], ref) for ref, neg in links
               if -neg >= least]
    return heapq.nsmallest(top, picked)


@dataclass
class Analysis:
    """One image, analysed: its layers, the bytes it stores but does not show, and advice."""

    image: Image
    composed: Composed
    layers: list[LayerReport]
    waste: list[WasteItem]
    duplicates: list[Duplicate]
    hints: list[Hint] = field(default_factory=list)

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
    def secrets(self) -> list[WasteItem]:
        return [w for w in self.waste if w.sensitive]

    @property
    def compressed_bytes(self) -> Optional[int]:
        total = 0
        for l in self.layers:
            if l.compressed_bytes is None:
                return None
            total += l.compressed_bytes
        return total

    @property
    def file_count(self) -> int:
        """Paths of the final filesystem, directories included (each once; a whiteout is
        none): `totals.files` in JSON, "paths" wherever a person reads it."""
        return len(self.composed.final)

    def layer_label(self, i: int) -> str:
        return f"layer {i}"

    def entry(self, path: str) -> Optional[FileRecord]:
        """The final filesystem's record of `path`, or None when it does not show it."""
        ref = self.composed.final.get(path)
        return None if ref is None else self._file_record(path, ref)

    def _file_record(self, path: str, ref: int, digests: bool = True) -> FileRecord:
        li, i = unpack(ref)
        idx = self.composed.layers[li]
        kind = idx.kinds[i]
        size = idx.sizes[i]
        digest = self.digest_of(li, i) if kind == FILE and digests else None
        if kind == HARDLINK:
            unit = self.composed.hardlink_unit.get(ref)
            if unit is not None:
                ul, ui = unpack(unit)
                size = self.composed.layers[ul].sizes[ui]
                digest = self.digest_of(ul, ui) if digests else None
        return FileRecord(path, KIND_NAMES[kind], size, idx.modes[i], idx.uids[i], idx.gids[i],
                          li, idx.links.get(i), idx.mtimes[i],
                          ("sha256:" + digest.hex()) if digest else None)

    def digest_of(self, layer: int, i: int) -> Optional[bytes]:
        """The content digest of entry i of a layer (None for no body, or --no-hash);
        one a lazy index left out is read now."""
        idx = self.composed.layers[layer]
        if idx.wants_digest(i):
            self.image.fill_digests({layer: {i}})
        return idx.digest(i)

    def read_digests(self, paths: Iterable[str]) -> None:
        """Read at once the digests lazy indexes left out of what these paths show (what
        entry() and digest_of() would read one at a time)."""
        final, links = self.composed.final, self.composed.hardlink_unit
        refs = (final.get(p) for p in paths)
        _fill(self.image, self.composed, (links.get(r, r) for r in refs if r is not None))

    def files(self, digests: bool = True) -> Iterator[FileRecord]:
        """Every path of the final filesystem, sorted, one record each, made as they are
        read. Without `digests`, none is read and each record's is None."""
        final = self.composed.final
        if digests:
            _fill(self.image, self.composed, self.composed.visible)
        for path in sorted(final):
            yield self._file_record(path, final[path], digests)

    def largest_files(self, top: int, digests: bool = True) -> list[FileRecord]:
        """The `top` biggest regular files and hardlinks of the final filesystem, biggest
        first, ties by path: files() sorted by (-size, path), cut to `top`, without a
        record (or a sort) for every file."""
        c = self.composed
        layers, units = c.layers, c.hardlink_unit

        def candidates() -> Iterator[tuple[int, str, int]]:
            for path, ref in c.final.items():
                idx = layers[ref >> 32]
                i = ref & 0xFFFFFFFF
                kind = idx.kinds[i]
                if kind == FILE:
                    yield -idx.sizes[i], path, ref
                elif kind == HARDLINK:
                    unit = units.get(ref)
                    yield (-layers[unit >> 32].sizes[unit & 0xFFFFFFFF] if unit is not None
                           else -idx.sizes[i]), path, ref

        picked = _top_by_marks(c, top)
        return [self._file_record(path, ref, digests)
                for _, path, ref in (picked if picked is not None
                                     else heapq.nsmallest(top, candidates()))]

    @cached_property
    def final_table(self) -> FinalTable:
        """The final filesystem as a path table: directory totals by prefix sums, made on
        first use (it needs numpy) and kept."""
        from slimscope.core.paths import FinalTable
        return FinalTable.of_analysis(self)


def _history_pairs(config: dict[str, Any], n_layers: int) -> list[dict[str, Any]]:
    """Pair history entries with layers; entries marked empty_layer have none."""
    out: list[dict[str, Any]] = []
    for h in config.get("history") or []:
        if not h.get("empty_layer"):
            out.append(h)
    out = out[:n_layers]
    while len(out) < n_layers:
        out.append({})
    return out


_IS_HARDLINK = kind_table(HARDLINK)


def _fill(image: Image, composed: Composed, units: Iterable[int]) -> None:
    """Read the digests of those `units` that lazy indexes left out, a layer at a time."""
    layers = composed.layers
    if not any(idx.lazy for idx in layers):
        return
    wants: dict[int, set[int]] = {}
    for unit in units:
        li, i = unit >> 32, unit & 0xFFFFFFFF
        if layers[li].wants_digest(i):
            wants.setdefault(li, set()).add(i)
    image.fill_digests(wants)


def build(image: Image) -> Analysis:
    indexes = [l.index for l in image.layers]
    composed = compose(indexes)
    if composed.undecided:  # files stored again at their size: the same content or not
        _fill(image, composed, composed.undecided)
        composed = compose(indexes)
    history = _history_pairs(image.config, len(image.layers))
    reports: list[LayerReport] = []
    for layer, hist, status in zip(image.layers, history, composed.status):
        idx = layer.index
        unit_bytes = sum(compress(idx.sizes, idx.kinds.translate(IS_FILE)))
        counts = [status.count(s) for s in range(6)]
        reports.append(LayerReport(
            index=layer.position, digest=layer.digest, diff_id=layer.diff_id,
            created_by=hist.get("created_by", ""), created=hist.get("created", ""),
            bytes=unit_bytes, tar_bytes=layer.size,
            compressed_bytes=layer.stored_bytes if layer.compressed else None,
            files=len(idx) - counts[DELETED] - counts[OPAQUED],
            added=counts[ADDED], modified=counts[MODIFIED], deleted=counts[DELETED] + counts[OPAQUED],
            metadata_only=counts[METADATA], comment=hist.get("comment", "")))
    waste: list[WasteItem] = []
    wasted = list(_wasted(composed))
    _fill(image, composed, sharing_a_size(composed))   # what duplicates are found among
    for unit, hidden in wasted:
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
    _read_later(image, composed, waste)
    duplicates = find_duplicates(composed, (w.unit for w in waste))
    analysis = Analysis(image, composed, reports, waste, duplicates)
    analysis.hints = find_hints(analysis)
    return analysis


def _read_later(image: Image, composed: Composed, waste: list[WasteItem]) -> None:
    """Leave the bodies of wasted units a lazy index did not hash unread until one of
    their digests is asked for; then read them all, a layer at a time, in one go."""
    layers = composed.layers
    pending = [w for w in waste if layers[w.unit >> 32].wants_digest(w.unit & 0xFFFFFFFF)]
    if not pending:
        return

    def read() -> None:
        _fill(image, composed, (w.unit for w in pending))
        for w in pending:
            digest = layers[w.unit >> 32].digest(w.unit & 0xFFFFFFFF)
            w._digest, w._read = ("sha256:" + digest.hex()) if digest else None, None

    for w in pending:
        w._read = read


def _wasted(composed: Composed) -> Iterator[tuple[int, Hidden]]:
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


def open_image(name: str, hash_contents: bool = True, image: Optional[str] = None,
               platform: Optional[str] = None, use_cache: bool = True,
               progress: Progress = None, on_layer: Optional[LayerCallback] = None,
               verify: bool = False, spool: Optional[str] = None) -> Image:
    """Open any source and index its layers, without composing them.

    `name` is what the command line takes: a path (archive or OCI layout), a
    transport-prefixed name (`docker-archive:`, `oci:`, `oci-archive:`,
    `docker-daemon:`) or an engine reference. `image` picks one image of an archive
    that holds several; `platform` one of a multi-platform index. `on_layer` gets the
    image of layers 0..k while the rest is indexed, where the source can tell
    (slimscope/image/feed.py); `build` of such a prefix is the analysis of those layers.

    An uncompressed layer of an archive file is read lazily: its big bodies are hashed
    only when a digest of theirs is asked for, and its bytes are not checked against
    its diff_id. `verify` reads every byte and checks every layer, as a stream is.
    `spool`: a directory for the blobs a registry source downloads (Options.spool)."""
    opts = Options(hash_contents=hash_contents, image=image, platform=platform,
                   cache=IndexCache(enabled=use_cache), progress=progress, on_layer=on_layer,
                   lazy_digests=not verify, spool=spool)
    return load_image(name, opts)


def sketch(name: str, image: Optional[str] = None, platform: Optional[str] = None,
           use_cache: bool = True) -> Optional[Analysis]:
    """The analysis of an image's tar headers alone, where its source can seek past the
    bodies (an uncompressed archive file): sizes and paths exact, no content digests
    (so no duplicates, and re-stored files count as overwritten), nothing verified.
    A view shows it while the real analysis is made; None elsewhere, and where the
    cache answers for every layer already (nothing is written to it)."""
    got = sketch_image(name, Options(hash_contents=False, image=image, platform=platform,
                                     cache=IndexCache(enabled=use_cache)))
    return build(got) if got is not None else None


def analyze(name: str, hash_contents: bool = True, image: Optional[str] = None,
            platform: Optional[str] = None, use_cache: bool = True,
            progress: Progress = None, on_layer: Optional[LayerCallback] = None,
            verify: bool = False, spool: Optional[str] = None) -> Analysis:
    """Open any source and analyze it: the one entry point the commands use."""
    return build(open_image(name, hash_contents, image, platform, use_cache, progress,
                            on_layer, verify, spool))


def compressed_sizes(analysis: Analysis, level: int = 6) -> dict[int, int]:
    """Layer position -> gzip-compressed size, for the layers whose compressed size is not
    known (stored uncompressed), compressing them the way a push would. Costs a second
    read of those layers; changes nothing."""
    missing = {l.index for l in analysis.layers if l.compressed_bytes is None}
    found: dict[int, int] = {}
    if not missing:
        return found
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
            found[p] = n
            missing.discard(p)
    return found


def measure_compressed(analysis: Analysis, level: int = 6) -> None:
    """Fill in the compressed sizes `compressed_sizes` measures, marking those layers
    as measured rather than stored compressed."""
    for p, n in compressed_sizes(analysis, level).items():
        analysis.layers[p].compressed_bytes = n
        analysis.layers[p].compressed_measured = True
