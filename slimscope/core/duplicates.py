"""The bodies the final filesystem shows more than once, stored as separate units.

Two shown units are one body stored twice when their sizes and sha256 digests agree.
A lazy layer index (slimscope.index.bodies) has not read its big bodies' digests:
sharing_a_size names the ones that could be a duplicate, for the analysis to read
before find_duplicates groups them.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, compress, islice
from operator import eq

from slimscope.core.compose import Composed, pack, unpack
from slimscope.core.masks import UnitSet
from slimscope.core.records import Duplicate
from slimscope.index.records import FILE, HARDLINK, IS_FILE, NO_DIGEST, LayerIndex


def sharing_a_size(composed: Composed) -> Iterator[int]:
    """The shown units of lazy indexes that could be a duplicate: another shown unit
    has their size. (A lazy index hashed every body up to LAZY_HASH_MAX already.)"""
    layers = composed.layers
    if not any(idx.lazy for idx in layers):
        return
    visible = composed.visible
    if isinstance(visible, UnitSet):
        shown = visible.rows()
    else:
        shown = [bytearray(len(idx)) for idx in layers]
        for unit in visible:
            shown[unit >> 32][unit & 0xFFFFFFFF] = 1
    count = Counter(chain.from_iterable(compress(idx.sizes, flags)
                                        for idx, flags in zip(layers, shown)))
    for li, idx in enumerate(layers):
        if idx.lazy:
            flags, sizes = shown[li], idx.sizes
            for i in compress(range(len(idx)), map((-1).__lt__, idx.offsets)):
                if flags[i] and count[sizes[i]] > 1:
                    yield li << 32 | i


def _prefixes(idx: LayerIndex) -> array[int]:
    """The first 8 bytes of each entry's digest, as ints in native byte order (they are
    only compared with each other), read in place rather than copying every digest."""
    with memoryview(idx.digests) as raw, raw.cast("Q") as words, words[::4] as firsts:
        return array("Q", firsts.tobytes())


def find_duplicates(composed: Composed, wasted_units: Iterable[int]) -> list[Duplicate]:
    """The groups of shown paths whose units hold one body, biggest saving first;
    `wasted_units` are the units the tree does not show (analysis._wasted)."""
    if not composed.hashed:
        return []
    layers = composed.layers
    # The units shown are the files that are not wasted: one flag per entry.
    shown = [idx.kinds.translate(IS_FILE) for idx in layers]
    for unit in wasted_units:
        shown[unit >> 32][unit & 0xFFFFFFFF] = 0
    # Keep memory flat: first find the digests (by their first 8 bytes) that more than
    # one shown unit has: the prefixes of the shown units, split eight ways by their top
    # bits, each part sorted on its own; then group only those.
    parts = [array("Q") for _ in range(8)]
    for idx, flags in zip(layers, shown):
        for x in compress(compress(_prefixes(idx), flags), compress(idx.sizes, flags)):
            parts[x >> 61].append(x)
    del shown
    twice: set[int] = set()
    for q in range(8):
        part, parts[q] = parts[q], array("Q")   # let each part go before the next
        # Most images store few bodies twice: a set of a part's prefixes tells that at a
        # third of a sort's time (an eighth of them at once: a set's table is bigger
        # than a list)
        if len(set(part)) == len(part):
            continue
        seen = sorted(part)
        del part
        twice.update(compress(seen, map(eq, seen, islice(seen, 1, None))))
        del seen
    by_digest: dict[bytes, dict[int, list[str]]] = {}
    if twice:
        # File and hardlink refs -> the unit they show, for the units worth grouping: one
        # dict look-up per path then stands for composed.unit_of and the size and prefix tests.
        shows: dict[int, int] = {}
        for li, idx in enumerate(layers):
            for i in compress(range(len(idx)), map(twice.__contains__, _prefixes(idx))):
                if idx.kinds[i] == FILE and idx.sizes[i]:
                    shows[pack(li, i)] = pack(li, i)
        for ref, unit in composed.hardlink_unit.items():
            if unit in shows and composed.entry_kind(ref) == HARDLINK:
                shows[ref] = unit
        for path, ref in composed.final.items():
            shown_unit = shows.get(ref)
            if shown_unit is None:
                continue
            li, i = unpack(shown_unit)
            d = bytes(layers[li].digests[i * 32:(i + 1) * 32])
            if d == NO_DIGEST:
                continue  # a lazy index's body no other shown unit is as big as
            by_digest.setdefault(d, {}).setdefault(shown_unit, []).append(path)
    out: list[Duplicate] = []
    for d, units in by_digest.items():
        if len(units) < 2:
            continue
        li, i = unpack(next(iter(units)))
        size = composed.layers[li].sizes[i]
        paths = sorted(p for ps in units.values() for p in ps)
        out.append(Duplicate("sha256:" + d.hex(), size, paths, size * (len(units) - 1)))
    out.sort(key=lambda d: (-d.savable, d.paths[0]))
    return out
