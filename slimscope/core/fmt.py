"""How sizes, signed deltas and layer commands are written for people: one
spelling for every report, the TUI and every consumer."""

from __future__ import annotations

from typing import Optional

import humanize


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
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text or "(no command recorded)"


def signed(n: Optional[int]) -> str:
    if n is None:
        return "?"
    if n == 0:
        return size(0)
    return ("+" if n > 0 else "-") + size(abs(n))


def md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
