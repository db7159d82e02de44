"""The terminal report of `slimscope analyze`, laid out for the console's width.

A pipe or a CI log gets 80 columns (or what COLUMNS says), a terminal its own width;
the same report must read at each. So: one line per layer (the command is cut with an
ellipsis: the full text is in the JSON), and every longer item (a secret, a hint, a
duplicate group, a path) wraps under itself with a hanging indent instead of running
back to column 0. Lines are laid out here, not by rich tables, so that every line is
known to fit and nothing is re-wrapped on the way out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from slimscope.core.fmt import plural, short_command, size
from slimscope.core.styled import Line, Writer

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis

MIN_WIDTH = 40
MIN_LAST = 20         # cells a path needs beside the columns before it goes under them
BAR_FROM = 100        # the layers' size bar is shown from this width on


def _bar(part: int, whole: int, width: int = 12) -> str:
    if whole <= 0:
        return " " * width
    filled = round(width * part / whole)
    return "█" * filled + "░" * (width - filled)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, an ellipsis where it was cut."""
    if len(text) <= width:
        return text
    return text[:max(width - 1, 0)] + "…"


def hang(text: str, width: int, first: str = "", indent: Optional[int] = None) -> list[str]:
    """`first` then `text`, wrapped to `width`, later lines indented under the text.

    Long words (paths) are broken rather than left to overflow."""
    indent = len(first) if indent is None else indent
    lines = textwrap.wrap(text, width=max(width, indent + 10), initial_indent=first,
                          subsequent_indent=" " * indent, break_on_hyphens=False) or [first]
    return lines


def wrap_items(items: Iterable[str], width: int, sep: str = "  ") -> list[str]:
    """Items joined by `sep`, a new line only between items (never inside one)."""
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(line) + len(sep) + len(item) > width:
            lines.append(line)
            line = item
        else:
            line = line + sep + item if line else item
    if line:
        lines.append(line)
    return lines


def _print(console: Writer, line: str | Line, style: str = "") -> None:
    console.print(line, style)


def _columns(rows: list[list[str]], right: set[int], width: int) -> list[str]:
    """Rows of cells, the last cell takes what is left and wraps under itself."""
    if not rows:
        return []
    n = len(rows[0])
    widths = [max(len(r[i]) for r in rows) for i in range(n - 1)]
    out = []
    for r in rows:
        cells = [r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i])
                 for i in range(n - 1)]
        head = "  " + "  ".join(cells) + "  "
        if width - len(head) >= MIN_LAST:
            out.extend(hang(r[-1], width, head))
        else:   # too narrow to wrap beside the cells: the last one goes under them
            out.append(head.rstrip())
            out.extend(hang(r[-1], width, "      "))
    return out


def render_text(analysis: Analysis, console: Writer, top: int = 10,
                files: bool = False) -> None:
    from slimscope.core.report import secret_sentence, where

    W = max(console.width, MIN_WIDTH)
    img = analysis.image
    head = Line()
    head.append(img.reference, "bold")
    head.append(f"  {img.id[:19]}  {img.os}/{img.architecture}", "dim")
    head.truncate(W)
    _print(console, head)
    items = [f"total {size(analysis.total_bytes)}", f"final {size(analysis.final_bytes)}",
             f"wasted {size(analysis.wasted_bytes)}", f"efficiency {analysis.efficiency:.1%}",
             f"layers {len(analysis.layers)}", f"paths {analysis.file_count}"]
    if analysis.compressed_bytes is not None:
        items.append(f"compressed {size(analysis.compressed_bytes)}")
    for line in wrap_items(items, W):
        _print(console, line)
    if not analysis.hashed:
        for line in hang("--no-hash: contents were not hashed, so metadata-only duplication is "
                         "counted as overwritten and duplicates are not reported", W):
            _print(console, line, "yellow")

    if analysis.secrets:
        console.print()
        _print(console, f"Hidden secrets ({len(analysis.secrets)})", "bold red")
        for w in analysis.secrets:
            for line in hang(secret_sentence(analysis, w), W, "  ✗ "):
                _print(console, line, "red")

    console.print()
    _layers(analysis, console, W)

    biggest = analysis.largest_files(top, digests=False)
    if biggest:
        console.print()
        _print(console, f"Largest files (top {len(biggest)})", "bold")
        rows = [["size", "layer", "path"]] + [[size(r.size), str(r.layer), r.path]
                                              for r in biggest]
        for i, line in enumerate(_columns(rows, {0, 1}, W)):
            _print(console, line, "dim" if i == 0 else "")

    if analysis.waste:
        console.print()
        shown = sorted(analysis.waste, key=lambda w: (-w.bytes, w.path))[:top]
        _print(console, f"Largest waste (top {len(shown)} of {len(analysis.waste)})", "bold")
        rows = [["size", "reason", "stored in", "hidden by", "path"]] + [
            [size(w.bytes), w.reason, f"layer {w.layer}", f"layer {w.hidden_by}",
             ("⚠ " if w.sensitive else "") + w.path] for w in shown]
        for i, line in enumerate(_columns(rows, {0}, W)):
            _print(console, line, "dim" if i == 0 else "red" if "⚠ " in line else "")

    if analysis.duplicates:
        console.print()
        savable = sum(d.savable for d in analysis.duplicates)
        _print(console, f"Duplicates ({plural(len(analysis.duplicates), 'group')}, "
                        f"{size(savable)} savable)", "bold")
        for d in analysis.duplicates[:top]:
            paths = ", ".join(d.paths[:4]) + (f" … {len(d.paths) - 4} more"
                                              if len(d.paths) > 4 else "")
            for line in hang(paths, W, f"  {size(d.bytes)} × {len(d.paths)}: ", indent=4):
                _print(console, line)
        _more(console, len(analysis.duplicates) - top)

    if analysis.hints:
        console.print()
        _print(console, "Hints", "bold")
        for h in analysis.hints[:top]:
            text = f"{size(h.bytes)}: {h.title} — {where(analysis, h.layer)}: {h.advice}"
            for line in hang(text, W, "  • "):
                _print(console, line)
        _more(console, len(analysis.hints) - top)

    if files:
        console.print()
        _print(console, "Final filesystem", "bold")
        rows = [["mode", "uid:gid", "size", "layer", "path"]]
        for r in analysis.files(digests=False):
            path = r.path + (f" -> {r.link}" if r.link else "")
            rows.append([f"{r.type[:4]} {r.mode:04o}", f"{r.uid}:{r.gid}",
                         size(r.size), str(r.layer), path])
        for i, line in enumerate(_columns(rows, {2, 3}, W)):
            _print(console, line, "dim" if i == 0 else "")


def _more(console: Writer, rest: int) -> None:
    if rest > 0:
        _print(console, f"  … {rest} more (--top)", "dim")


def _layers(analysis: Analysis, console: Writer, W: int) -> None:
    """One line per layer: index, size, [bar,] wasted, + ~ -, the command cut to fit."""
    _print(console, "Layers", "bold")
    total = analysis.total_bytes
    with_bar = W >= BAR_FROM
    rows: list[list[str]] = []
    for l in analysis.layers:
        rows.append([str(l.index), size(l.bytes)]
                    + ([_bar(l.bytes, total)] if with_bar else [])
                    + [size(l.wasted_bytes) if l.wasted_bytes else "",
                       str(l.added), str(l.modified + l.metadata_only), str(l.deleted)])
    head = ["#", "size"] + ([""] if with_bar else []) + ["wasted", "+", "~", "-"]
    widths = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(len(head))]
    bar_col = 2 if with_bar else -1

    wasted_col = 3 if with_bar else 2

    def line(cells: list[str], wasted_style: str = "") -> Line:
        t = Line("  ")
        for i, (c, w) in enumerate(zip(cells, widths)):
            t.append(c.ljust(w) if i == bar_col else c.rjust(w),
                     wasted_style if i == wasted_col else "")
            t.append("  ")
        return t

    lead = line(head)
    lead.stylize("dim")
    room = W - lead.cell_len
    _print(console, lead + Line("command", "dim"))
    for l, cells in zip(analysis.layers, rows):
        t = line(cells, "red")
        t.append(cut(short_command(l.command), max(room, 8)))
        _print(console, t)
