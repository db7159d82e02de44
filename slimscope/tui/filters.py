"""The explorer's filter: what the text typed above the tree means (a fragment, or a
glob of the one dialect) and the one regex scan over a table's joined paths that
applies it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Optional, Protocol, Union

import numpy as np

from slimscope.errors import BadInput
from slimscope.globs import Glob, compile_glob


# -- filter texts ---------------------------------------------------------------
def _parse_filter(text: str) -> Union[Glob, str, None]:
    """What a filter text asks: a Glob, or a fragment (the lower-cased text); None if empty.

    Text with a glob character is a path glob of slimscope.globs' dialect (`*.so` is
    any file so named, `share/*/pkg` such a path at any depth, `/usr/*` anchored); text
    without one, or a glob the dialect refuses, is a case-insensitive substring of the
    path: a filter is typed a key at a time and never an error.
    """
    text = text.strip()
    if not text:
        return None
    # a bracket that opens no class ("[", "a]") is text, not a glob that matches nothing
    if any(c in text for c in "*?") or re.search(r"\[[^\]]+\]", text):
        try:
            return compile_glob(text)
        except BadInput:
            pass
    return text.lower()


def _matcher(how: Union[Glob, str]) -> Callable[[str], bool]:
    if isinstance(how, Glob):
        return how.match
    return lambda p: how in p.lower()


def path_matcher(text: str) -> Optional[Callable[[str], bool]]:
    """One path at a time: does it match the filter text (see `_parse_filter`)?"""
    how = _parse_filter(text)
    return None if how is None else _matcher(how)


class Lines:
    """A list of strings as one newline-joined text, so a regex scans them all in C."""

    def __init__(self, items: list):
        self.text = "\n".join(items)
        lengths = np.fromiter(map(len, items), np.int64, len(items)) + 1
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.n = len(items)
        # a string holding a newline would shift every line after it
        self.usable = self.text.count("\n") == max(self.n - 1, 0)

    def mask(self, pattern: re.Pattern) -> np.ndarray:
        """Per item: does `pattern` (compiled with re.M, anchored ^...$) match it?"""
        hits = np.fromiter((m.start() for m in pattern.finditer(self.text)), np.int64)
        out = np.zeros(self.n, bool)
        out[np.searchsorted(self.starts, hits, side="right") - 1] = True
        return out


class Scanned(Protocol):
    """What a filter scans: the paths of a table and their joined texts (tui/table.py's
    Table; a protocol, so that the table can build on Lines without a cycle)."""

    paths: list[str]

    def lines(self, which: str) -> Lines: ...


def _line_pattern(glob: Glob) -> re.Pattern:
    """The glob made to match one line of a Lines text (its wildcards refuse newlines)."""
    return re.compile("^(?:" + glob.lines_source + ")", re.M)


def path_filter(text: str) -> Optional[Callable[[Scanned], np.ndarray]]:
    """`path_matcher` over every path of a table at once: table -> boolean mask.

    The same tests, as one regex scan of the joined paths instead of a Python call
    per path; falls back to one call per path if a path holds a newline."""
    how = _parse_filter(text)
    if how is None:
        return None
    one = _matcher(how)
    if isinstance(how, str):
        pattern = re.compile(re.escape(how))
        return lambda t: t.lines("lower").mask(pattern) if t.lines("lower").usable \
            else _each(t.paths, one)
    pattern = _line_pattern(how)
    return lambda t: t.lines("paths").mask(pattern) if t.lines("paths").usable \
        else _each(t.paths, one)


def _each(paths: list, match: Callable[[str], bool]) -> np.ndarray:
    return np.fromiter(map(match, paths), bool, len(paths))
