"""Sets of entries kept as one byte per layer entry, and masks of that shape.

The final tree's marks (Composed.in_final), the units it shows (UnitSet) and the
kinds of a layer (LayerIndex.kinds through a kind_table) all have one byte per entry
of each layer; combining them in C keeps a step per entry out of Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbcSet

from slimscope.index.records import LayerIndex


class UnitSet(AbcSet[int]):
    """A set of unit refs kept as one flag byte per layer entry.

    Behaves as a read-only set of ints (`in`, len, iteration in ref order, comparisons);
    a built-in set of 200,000 refs costs some 60 bytes per unit, this costs one per entry.
    """

    __slots__ = ("_flags", "_n")

    def __init__(self, layer_sizes: Iterable[int] = ()):
        self._flags = [bytearray(n) for n in layer_sizes]
        self._n = 0

    @classmethod
    def of_rows(cls, rows: list[bytearray]) -> UnitSet:
        """The set whose flags are these rows (one per layer, 0 or 1 per entry), kept."""
        got = cls()
        got._flags, got._n = rows, sum(row.count(1) for row in rows)
        return got

    @classmethod
    def _from_iterable(cls, it: Iterable[int]) -> set[int]:  # type: ignore[override]
        return set(it)   # results of &, |, - are plain sets

    def add(self, unit: int) -> None:
        flags = self._flags[unit >> 32]
        i = unit & 0xFFFFFFFF
        if not flags[i]:
            flags[i] = 1
            self._n += 1

    def __contains__(self, unit: object) -> bool:
        if not isinstance(unit, int) or unit < 0:
            return False
        li, i = unit >> 32, unit & 0xFFFFFFFF
        return li < len(self._flags) and i < len(self._flags[li]) and self._flags[li][i] == 1

    def rows(self) -> list[bytearray]:
        """Per layer, a flag byte per entry (1: in the set); the set's own, not a copy."""
        return self._flags

    def __iter__(self) -> Iterator[int]:
        for li, flags in enumerate(self._flags):
            i = flags.find(1)
            while i != -1:
                yield (li << 32) | i
                i = flags.find(1, i + 1)

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"UnitSet({sorted(self)!r})"


def and_masks(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    """Two byte masks of 0 and 1 ANDed, in C (as two big integers)."""
    both = int.from_bytes(a, "little") & int.from_bytes(b, "little")
    return both.to_bytes(len(a), "little")


def shown_of_kind(marked: list[bytes], layers: list[LayerIndex], table: bytes) -> list[bytes]:
    """Per layer, 1 for each entry the final tree shows (`marked`, as Composed.in_final)
    whose kind `table` (a kind_table) keeps."""
    return [and_masks(m, idx.kinds.translate(table)) for m, idx in zip(marked, layers)]


def shown_hardlinks(marked: list[bytes], hardlink_unit: dict[int, int]) -> Iterator[tuple[int, int]]:
    """(hardlink ref, unit) of each hardlink the final tree shows."""
    for ref, unit in hardlink_unit.items():
        if marked[ref >> 32][ref & 0xFFFFFFFF]:
            yield ref, unit
