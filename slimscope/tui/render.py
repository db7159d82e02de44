"""Rich text for rows and panes: sizes, bars, status markers and colours."""

from __future__ import annotations

import stat
from datetime import datetime, timezone
from typing import Optional

from rich.text import Text

from slimscope.core.fmt import short_command, size
from slimscope.tui.entry import (
    ADDED,
    DELETED,
    INHERITED,
    MARKERS,
    METADATA,
    MODIFIED,
    OPAQUED,
    STATUS_LABELS,
    UNCHANGED,
)

STYLES = {
    ADDED: "green",
    MODIFIED: "yellow",
    METADATA: "magenta",
    UNCHANGED: "",
    DELETED: "red strike",
    OPAQUED: "red",
    INHERITED: "",
}
MARKER_STYLES = {ADDED: "bold green", MODIFIED: "bold yellow", METADATA: "bold magenta",
                 DELETED: "bold red", OPAQUED: "bold red"}


def bar(part: int, whole: int, width: int = 10) -> str:
    if whole <= 0 or part <= 0:
        return "░" * width
    eighths = round(width * 8 * min(part, whole) / whole)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest].strip() if rest else ""
    return ("█" * full + partial).ljust(width, "░")[:width]


def pct(part: int, whole: int) -> str:
    if whole <= 0:
        return "    -"
    return f"{100 * part / whole:5.1f}%"[:6].rjust(6)


def legend() -> Text:
    t = Text()
    for st in (ADDED, MODIFIED, METADATA, DELETED, OPAQUED):
        t.append(MARKERS[st], MARKER_STYLES[st])
        t.append(f" {STATUS_LABELS[st]}  ", STYLES[st].replace(" strike", ""))
    t.append("deleted rows show the bytes they still cost", "dim italic")
    return t


def _is_deleted(entry) -> bool:
    return entry.status == DELETED or entry.kind_name in ("whiteout", "opaque")


def entry_columns(entry, total: int, parent_total: int, bar_width: int = 10,
                  owner: Optional[tuple] = None) -> Text:
    """The fixed columns of a tree row, `marker size pct [bar] [mode uid:gid]`: the same
    width on every row, so sizes line up down the pane whatever the depth."""
    st = entry.status
    deleted = _is_deleted(entry)
    shown = entry.hides if deleted else total
    t = Text(no_wrap=True)
    t.append(MARKERS[st] + " ", MARKER_STYLES.get(st, ""))
    t.append(f"{size(shown):>9} ", "red" if deleted else "bold" if entry.is_dir else "")
    t.append(pct(shown, parent_total) + " ", "dim")
    if bar_width:
        t.append(bar(shown, parent_total, bar_width), "red" if deleted else "cyan")
        t.append(" ")
    if owner is not None:
        mode, uid, gid = owner
        t.append(f"{mode_string(mode) if mode is not None else '-':<9} ", "dim")
        t.append(f"{'' if uid is None else f'{uid}:{gid}':>7} ", "dim")
    return t


def entry_name(name: str, entry, link=None) -> Text:
    """The name part of a tree row (after the guides): name, link target, what a deletion costs."""
    st = entry.status
    t = Text(no_wrap=True, overflow="ellipsis")
    style = STYLES[st]
    if entry.is_dir:
        style = (style + " bold").strip()
    t.append(name + ("/" if entry.is_dir and name != "/" else ""), style)
    if link:
        t.append(f" → {link}", "italic dim")
    if st == DELETED:
        t.append("  deleted, still stored", "red dim")
    elif st == OPAQUED and entry.hides:
        t.append(f"  emptied, hides {size(entry.hides)}", "red dim")
    return t


def entry_label(name: str, entry, total: int, parent_total: int, link=None) -> Text:
    """`marker  size  pct  bar  name` — ncdu-like, sizes and shares against the parent."""
    return entry_columns(entry, total, parent_total) + entry_name(name, entry, link)


def mode_string(mode) -> str:
    return stat.filemode(mode)[1:] if mode is not None else "-"


def when(ts) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["bar", "pct", "legend", "entry_label", "entry_columns", "entry_name", "size",
           "short_command", "mode_string",
           "when", "STYLES", "MARKER_STYLES"]
