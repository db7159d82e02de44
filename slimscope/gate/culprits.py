"""What caused a rule to fail, in groups (layers, files, waste, ...), and the one way
every report cuts them: each group to --top on its own, with "… N more" counting the
rest of that group. Text, Markdown, JUnit and annotations all list the same lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

MAX_CULPRITS = 200   # kept per group in the JSON report; the text shows --top of them


@dataclass
class Culprit:
    text: str
    bytes: Optional[int] = None
    path: Optional[str] = None
    layer: Optional[int] = None
    group: str = "files"         # a plural noun: what "… N more" counts
    heading: bool = False        # a line that opens its group, never cut and never counted

    def as_dict(self) -> dict:
        return {"text": self.text, "bytes": self.bytes, "path": self.path, "layer": self.layer,
                "group": self.group}


def capped(items: Iterable[Culprit], group: str, total: Optional[int] = None
           ) -> tuple[list[Culprit], dict[str, int]]:
    """The first MAX_CULPRITS of a group, and how many the group has in all."""
    items = list(items)
    for c in items:
        c.group = group
    return items[:MAX_CULPRITS], {group: len(items) if total is None else total}


def shown(culprits: list[Culprit], totals: dict[str, int], top: int) -> list[tuple[str, bool]]:
    """(line, is a '… N more' line) in report order: each group's first `top` culprits,
    then what is left of that group."""
    order: list[str] = []
    by_group: dict[str, list[Culprit]] = {}
    for c in culprits:
        if c.group not in by_group:
            order.append(c.group)
            by_group[c.group] = []
        by_group[c.group].append(c)
    out: list[tuple[str, bool]] = []
    for group in order:
        listed = 0
        for c in by_group[group]:
            if c.heading:
                out.append((c.text, False))
            elif listed < top:
                out.append((c.text, False))
                listed += 1
        counted = sum(1 for c in by_group[group] if not c.heading)
        more = max(totals.get(group, counted), counted) - listed
        if more > 0:
            out.append((f"… {more} more {group}", True))
    return out
