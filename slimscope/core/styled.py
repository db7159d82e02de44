"""Styled lines for the terminal report, and where they are written.

The report lays out every line itself (textreport.py), so it needs no renderer: only
a width, a few SGR styles when the output is a terminal, and names that cannot move
the cursor. Importing rich's Console for that was a sixth of a warm `analyze`.
The width and colour rules are the ones users know from rich and most CLIs: COLUMNS
wins, else the first of stdin/stdout/stderr that is a terminal, else 80; styles only
on a terminal that is not `TERM=dumb`, FORCE_COLOR forces them, NO_COLOR drops the
colours and keeps bold and dim.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from typing import IO, Optional

_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33"}
_ATTRS = ("bold", "dim")
# C0 controls and DEL in a path or command would reach the terminal as cursor moves
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def cell_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else
               0 if unicodedata.combining(c) else 1 for c in text)


class Line:
    """Text in runs, each with a style of space-separated words from _SGR."""

    def __init__(self, text: str = "", style: str = ""):
        self.runs: list[tuple[str, str]] = [(text, style)] if text else []

    def append(self, text: str, style: str = "") -> Line:
        if text:
            self.runs.append((text, style))
        return self

    def __add__(self, other: Line) -> Line:
        out = Line()
        out.runs = self.runs + other.runs
        return out

    @property
    def plain(self) -> str:
        return "".join(t for t, _ in self.runs)

    @property
    def cell_len(self) -> int:
        return cell_len(self.plain)

    def stylize(self, style: str) -> None:
        """`style` under every run's own."""
        self.runs = [(t, f"{style} {s}".strip()) for t, s in self.runs]

    def truncate(self, width: int) -> None:
        """At most `width` cells, an ellipsis where it was cut."""
        if self.cell_len <= width:
            return
        room, runs = max(width - 1, 0), []
        for text, style in self.runs:
            if room <= 0:
                break
            kept = ""
            for c in text:
                w = cell_len(c)
                if w > room:
                    room = 0
                    break
                kept, room = kept + c, room - w
            runs.append((kept, style))
        runs.append(("…", runs[-1][1] if runs else ""))
        self.runs = runs


def _environ_width() -> Optional[int]:
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def terminal_width() -> int:
    width = _environ_width()
    if width:
        return width
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (OSError, ValueError):
            continue
    return 80


class Writer:
    """Lines to a file: plain, or with SGR codes when `color` (None: decide from the file)."""

    def __init__(self, file: Optional[IO[str]] = None, width: Optional[int] = None,
                 color: Optional[bool] = None):
        self.file = file if file is not None else sys.stdout
        self.width = width if width is not None else terminal_width()
        if color is None:
            dumb = os.environ.get("TERM", "").lower() in ("dumb", "unknown")
            color = bool(os.environ.get("FORCE_COLOR")) or (
                not dumb and hasattr(self.file, "isatty") and self.file.isatty())
        self.color = color
        self.no_color = bool(os.environ.get("NO_COLOR"))

    def _codes(self, style: str) -> str:
        words = style.split()
        # in _SGR's order: attributes first, then the colour, as rich writes them
        return ";".join(code for w, code in _SGR.items()
                        if w in words and not (self.no_color and w not in _ATTRS))

    def print(self, line: str | Line = "", style: str = "") -> None:
        if isinstance(line, str):
            line = Line(line, style)
        out: list[list[str]] = []     # [codes, text], neighbours with the same codes joined
        for text, run_style in line.runs:
            codes = self._codes(run_style) if self.color else ""
            if out and out[-1][0] == codes:
                out[-1][1] += text
            else:
                out.append([codes, text])
        self.file.write("".join(f"\x1b[{c}m{_visible(t)}\x1b[0m" if c else _visible(t)
                                for c, t in out) + "\n")
