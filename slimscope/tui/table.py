"""The explorer's table: the core's HistoryTable (every entry of every layer once,
every path once, sorted), with the texts of its paths that a filter scans."""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter

from slimscope.core.compose import Composed
from slimscope.core.paths import HistoryTable
from slimscope.tui.filters import Lines


class Table(HistoryTable):
    """The core's table of the image's history, with the path texts a filter scans."""

    def __init__(self, composed: Composed) -> None:
        super().__init__(composed)
        self._lines: dict[str, Lines] = {}

    def lines(self, which: str) -> Lines:
        """The paths ("paths"), lower-cased ("lower") or their last names ("names"), as
        Lines, made on first use (a filter is the only user) and kept."""
        got = self._lines.get(which)
        if got is None:
            if which == "paths":
                got = Lines(self.paths)
            elif which == "lower":
                got = Lines(list(map(str.lower, self.paths)))
            else:
                got = Lines(list(map(itemgetter(2), map(str.rpartition, self.paths,
                                                        repeat("/")))))
            self._lines[which] = got
        return got
