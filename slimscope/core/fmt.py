"""How sizes, signed deltas and layer commands are written for people: one
spelling for every report, the TUI and every consumer."""

from __future__ import annotations

import re
from typing import Any, Optional

import humanize

# What the classic builder records for COPY/ADD: the content hash of the sources, then
# the destination. The hash means nothing to a reader; the destination is what they wrote.
_COPY_HASH = re.compile(r"^(COPY|ADD) (?:--\S+ )*(?:file|dir|multi):[0-9a-f]{64} in (\S.*)$")


def size(n: Optional[float]) -> str:
    if n is None:
        return "?"
    return humanize.naturalsize(n, binary=False, format="%.1f")


def short_command(created_by: str, width: int = 0) -> str:
    text = (created_by or "").strip()
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c ", "|"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    if text.startswith("|"):
        text = text.split(" ", 1)[-1]
    text = " ".join(text.split())
    if text.startswith("#(nop)"):
        text = text[6:].strip()
    m = _COPY_HASH.match(text)
    if m:
        text = f"{m.group(1)} … {m.group(2).strip()}"
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text or "(no command recorded)"


def layer_command(layer: dict[str, Any]) -> str:
    """A layer dict's command (`created_by`), else its history comment: the text
    `LayerReport.command` gives, so a layer has one name in every report."""
    return str(layer.get("created_by") or layer.get("comment") or "")


def plural(n: int, word: str, words: str = "") -> str:
    """`1 group`, `2 groups`, `1,204 entries` (give `words` where an s will not do)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def signed(n: Optional[int]) -> str:
    if n is None:
        return "?"
    if n == 0:
        return size(0)
    return ("+" if n > 0 else "-") + size(abs(n))


def md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
