"""JSON text exactly as json.dumps(obj, indent=2) writes it, through the C encoder.

With `indent`, the json module falls back to its pure-Python encoder, which took
7.5% of a 200k-file analysis (issue 19). Here only containers that hold
containers are walked in Python; a container of plain values (a file's record, a
list of paths) is written by the C encoder in one call, its item separator
carrying the newline and indentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain, islice
from typing import IO, Any

_ENCODERS: dict[int, json.JSONEncoder] = {}
_NESTED = (dict, list, tuple, Iterator)

def _encoder(depth: int) -> json.JSONEncoder:
    enc = _ENCODERS.get(depth)
    if enc is None:
        enc = _ENCODERS[depth] = json.JSONEncoder(separators=(",\n" + "  " * depth, ": "))
    return enc


CHUNK_ITEMS = 512  # items of an iterator encoded at a time: ~0.3 MB held; more saves no CPU


class _Stream:
    """Pieces go straight to a file instead of into a list."""

    def __init__(self, fp: IO[str]):
        self.append = fp.write


def dumps(obj: Any) -> str:
    """json.dumps(obj, indent=2), byte for byte. An iterator is written as a list."""
    out: list[str] = []
    _write(obj, 0, out)
    return "".join(out)


def dump(obj: Any, fp: IO[str]) -> None:
    """dumps(obj) written to fp as it is made: with an iterator of records in it (a
    report's files), neither the records nor the whole text are ever all in memory."""
    _write(obj, 0, _Stream(fp))  # type: ignore[arg-type]  # only .append is used


def _write(obj: Any, depth: int, out: list[str]) -> None:
    if isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        inner = "\n" + "  " * (depth + 1)
        if not any(isinstance(v, _NESTED) for v in obj.values()):
            out.append("{" + inner + _encoder(depth + 1).encode(obj)[1:-1] + "\n" + "  " * depth
                       + "}")
            return
        key = _encoder(0).encode
        sep = "{" + inner
        for k, v in obj.items():
            # the key as json writes it (non-str keys become strings): the C encoder's own
            out.append(sep + (key(k) if isinstance(k, str) else key({k: 0})[1:-4]) + ": ")
            _write(v, depth + 1, out)
            sep = "," + inner
        out.append("\n" + "  " * depth + "}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append("[]")
            return
        inner = "\n" + "  " * (depth + 1)
        if _records(obj):
            out.append(_record_list(obj, depth))
            return
        if not any(isinstance(v, _NESTED) for v in obj):
            out.append("[" + inner + _encoder(depth + 1).encode(obj)[1:-1] + "\n" + "  " * depth
                       + "]")
            return
        sep = "[" + inner
        for v in obj:
            out.append(sep)
            _write(v, depth + 1, out)
            sep = "," + inner
        out.append("\n" + "  " * depth + "]")
    elif isinstance(obj, Iterator):
        _write_iterator(obj, depth, out)
    else:
        out.append(_encoder(0).encode(obj))


def _write_iterator(items: Iterator[Any], depth: int, out: list[str]) -> None:
    tail = len("\n" + "  " * depth + "]")
    opened = False
    while True:
        chunk = list(islice(items, CHUNK_ITEMS))
        if not chunk:
            break
        # the chunk as a list, less its brackets: "\n  item,\n  item"
        part: list[str] = []
        _write(chunk, depth, part)
        text = "".join(part)
        out.append(("," if opened else "[") + text[1:-tail])
        opened = True
    out.append("\n" + "  " * depth + "]" if opened else "[]")


def _records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every item is a non-empty dict of plain values (a report's file records)."""
    if len(items) < 2 or set(map(type, items)) != {dict} or not all(items):
        return False
    kinds = set(map(type, chain.from_iterable(map(dict.values, items))))
    return not any(issubclass(t, _NESTED) for t in kinds)


def _record_list(items: list[Any] | tuple[Any, ...], depth: int) -> str:
    # One C call for the whole list, its separator right for inside a record; between
    # records the same separator is followed by "{", which no string can hold after a
    # raw newline (ensure_ascii escapes it): those become the record boundaries.
    pad, pad1, pad2 = "  " * depth, "  " * (depth + 1), "  " * (depth + 2)
    sep = ",\n" + pad2
    text = _encoder(depth + 2).encode(items)
    text = text.replace("}" + sep + "{", "\n" + pad1 + "},\n" + pad1 + "{\n" + pad2)
    return "[\n" + pad1 + "{\n" + pad2 + text[2:-2] + "\n" + pad1 + "}\n" + pad + "]"
