"""Which first layers of an image are its base image, as its own history tells.

A base's last instruction is usually its CMD or ENTRYPOINT (an empty history entry),
and a base made by `docker import` says "Imported from" on its one layer. Hints need
this to tell a leftover the user's RUN made from one the base shipped; `slim
--keep-base` needs it to know what to keep.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["base_from_history", "is_base_end"]


def is_base_end(created_by: str) -> bool:
    """An instruction that usually ends a base image's Dockerfile."""
    text = " ".join((created_by or "").split())
    for marker in ("#(nop) CMD", "#(nop) ENTRYPOINT"):
        if marker in text:
            return True
    return text.startswith(("CMD [", "CMD ", "ENTRYPOINT "))


def _end_word(h: dict[str, Any]) -> str:
    return "ENTRYPOINT" if "ENTRYPOINT" in (h.get("created_by") or "") else "CMD"


def base_from_history(config: dict[str, Any],
                      n_layers: int) -> tuple[Optional[int], Optional[str]]:
    """(number of base layers, how the history says so) or (None, None).

    The base is the longest run of first layers that the history ends with a base's
    last instruction; it is never the whole image (then nothing was built on it).
    """
    history = config.get("history") or []
    seen = 0
    best: tuple[Optional[int], Optional[str]] = (None, None)
    for h in history:
        if not isinstance(h, dict):
            continue
        if not h.get("empty_layer"):
            seen += 1
            if "Imported from" in (h.get("comment") or "") and seen < n_layers:
                best = (seen, "the history says layer 0 was imported")
        elif is_base_end(h.get("created_by", "")) and 0 < seen < n_layers:
            best = (seen, f"the history ends a base with {_end_word(h)} after layer {seen - 1}")
    return best
