"""Advice backed by measured bytes, each naming the layer (and so the command) to change."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, islice
from typing import TYPE_CHECKING, Any, Optional

from slimscope.catalog import HINTED, PRESETS, group
from slimscope.core.base import base_from_history
from slimscope.core.compose import unpack
from slimscope.globs import compile_glob, compiled
from slimscope.index.records import FILE, HARDLINK

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis
from slimscope.core.fmt import plural


@dataclass
class Hint:
    id: str
    title: str
    advice: str
    bytes: int
    layer: int
    paths: list[str] = field(default_factory=list)   # the largest few
    count: int = 0


# Leftovers of package managers and builds, found in the final filesystem: the
# catalogue's hinted groups. (id, title, advice, path globs)
FINAL_RULES = [(g.id, g.title, g.advice, list(g.globs)) for g in map(group, HINTED)]


def _pattern(globs: Iterable[str]) -> str:
    return "|".join(compile_glob(g).source for g in globs)


# All rules in one pattern, a named group per rule, in rule order. Alternatives are tried
# in order and each glob's translation ends in \Z with nothing after the group, so the
# group that matches names the first rule that matches on its own, as a loop over the
# rules that stops at the first match would.
_RULES = "|".join(f"(?P<r{k}>{_pattern(globs)})" for k, (*_, globs) in enumerate(FINAL_RULES))
_RULE_OF_GROUP = {f"r{k}": rid for k, (rid, *_) in enumerate(FINAL_RULES)}


def _needles(globs: list[str]) -> Optional[list[str]]:
    """Strings such that any path a glob matches, written between two NULs, contains
    one of them; None if some glob allows no such string.

    A glob's literal head must open the path (NUL + head), else its literal tail must
    close it (tail + NUL), else its longest literal stretch must be inside it (the
    dialect's translation knows these parts). A needle that contains another adds
    nothing.
    """
    found = set()
    for text in globs:
        g = compile_glob(text)
        if len(g.head) > 1:
            found.add("\0" + g.head)
        elif g.tail:
            found.add(g.tail + "\0")
        elif len(g.longest) > 1:
            found.add(g.longest)
        else:
            return None
    return sorted(n for n in found if not any(m != n and m in n for m in found))


_NEEDLES = _needles([g for *_, globs in FINAL_RULES for g in globs])


_CHUNK = 4096   # paths searched at once: a text of some 100 KiB, not one of the whole tree


def _candidates(final: dict[str, int]) -> Iterator[tuple[str, int]]:
    """(path, ref) for each path of `final`, in its order, that may match some rule.

    Matching 200,000 paths against the rules one at a time costs far more than a few
    substring searches over thousands of them at once, and few paths match.
    """
    keys, values = iter(final), iter(final.values())
    while paths := list(islice(keys, _CHUNK)):
        refs = list(islice(values, len(paths)))
        if _NEEDLES is None:
            yield from zip(paths, refs)
            continue
        text = "\0" + "\0".join(paths) + "\0"
        starts = None   # where each path begins in text; only needed once something hits
        hits = set()
        for needle in _NEEDLES:
            # The character after a leading NUL, or else the first one, lies in the path hit.
            lead = 1 if needle[0] == "\0" else 0
            at = text.find(needle)
            while at != -1:
                if starts is None:
                    starts = list(accumulate((len(p) + 1 for p in paths), initial=1))
                k = bisect_right(starts, at + lead) - 1
                hits.add(k)
                at = text.find(needle, starts[k + 1] - 1)   # from the NUL before the next path
        for k in sorted(hits):
            yield paths[k], refs[k]


# The slim preset that removes each hinted group, when one does.
_PRESET_OF = {gid: name for name, (_, gids) in PRESETS.items() for gid in gids}


class _Base:
    """The base image's layers as the history marks them, and advice for leftovers in
    them: the user wrote no RUN there, so "in the same RUN" cannot be followed."""

    def __init__(self, analysis: Analysis) -> None:
        n, why = base_from_history(analysis.image.config, len(analysis.composed.layers))
        self.n = n or 0
        self.why = why or ""
        self.copies = {li: cmd for li, layer in enumerate(analysis.layers)
                       if (cmd := _copy_word(layer.created_by))}

    def has(self, layer: int) -> bool:
        return layer < self.n

    def owned(self, layer: int) -> str:
        return f"layer {layer} belongs to the base image ({self.why}), not to a step of yours"

    def copied(self, layer: int, advice: str) -> str:
        """Advice for files a COPY/ADD layer brought in: no RUN made them."""
        if layer not in self.copies:
            return advice
        cmd = self.copies[layer]
        return (f"layer {layer} is a {cmd}: leave these files out of it (.dockerignore, a "
                f"narrower source), or bind-mount them for the RUN that uses them "
                "(`RUN --mount=type=bind`)")

    def leftover(self, rid: str, layer: int) -> str:
        preset = _PRESET_OF.get(rid)
        remove = (f"`slimscope slim IMAGE --preset {preset}` removes them from a flattened copy"
                  if preset else "`slimscope slim IMAGE --remove GLOB` removes them from a "
                  "flattened copy")
        return (f"{self.owned(layer)}: pick a slimmer base, or {remove} (`slim --keep-base` "
                "keeps the base layers as they are, these files with them)")

    def removed(self, layer: int, by: int) -> str:
        if self.has(by):
            return (f"both layers belong to the base image ({self.why}): pick a slimmer base, "
                    "or `slimscope slim IMAGE` drops the hidden bytes from a flattened copy")
        return (f"{self.owned(layer)}: deleting its files in layer {by} saves nothing, they "
                "still ship in the base; drop the delete, pick a slimmer base, or `slimscope "
                "slim IMAGE` drops the hidden bytes from a flattened copy")

    def restored(self, layer: int, by: int) -> str:
        if self.has(by):
            return (f"both layers belong to the base image ({self.why}): pick a slimmer base, "
                    "or `slimscope slim IMAGE` drops the hidden copies")
        return (f"{self.owned(layer)}: where a `RUN chmod/chown` of yours did this, leave "
                "the base's files as they are (`COPY --chown/--chmod` helps only for files you "
                "copy); `slimscope slim IMAGE` drops the hidden copies")


def _copy_word(created_by: str) -> str:
    """COPY or ADD when a history entry made its layer with one, else ''."""
    text = " ".join((created_by or "").split())
    for lead in ("/bin/sh -c #(nop) ", "#(nop) "):
        if text.startswith(lead):
            text = text[len(lead):]
    word = text.split(" ", 1)[0]
    return word if word in ("COPY", "ADD") else ""


def find_hints(analysis: Analysis) -> list[Hint]:
    composed = analysis.composed
    layers = composed.layers
    base = _Base(analysis)
    # (rule id, layer) -> [bytes, [(size, path)], count]
    found: dict[tuple[str, int], list[Any]] = {}
    for path, ref in _candidates(composed.final):
        m = compiled(_RULES).match(path)   # compiled when a first path may match
        if m is None:
            continue
        li, i = unpack(ref)
        idx = layers[li]
        kind = idx.kinds[i]
        if kind != FILE and kind != HARDLINK:
            continue
        size = idx.sizes[i] if kind == FILE else 0  # a hardlink's body is counted at its file
        acc = found.setdefault((_RULE_OF_GROUP[str(m.lastgroup)], li), [0, [], 0])
        acc[0] += size
        acc[1].append((size, path))
        acc[2] += 1
    meta = {rid: (title, advice) for rid, title, advice, _ in FINAL_RULES}
    hints = []
    for (rid, li), (size, items, count) in found.items():
        if size <= 0:
            continue
        title, advice = meta[rid]
        advice = base.leftover(rid, li) if base.has(li) else base.copied(li, advice)
        items.sort(key=lambda t: (-t[0], t[1]))
        hints.append(Hint(rid, title, advice, size, li, [p for _, p in items[:5]], count))

    # Waste, grouped by the layer that stores it and the layer that hid it.
    removed: dict[tuple[int, int], list[Any]] = {}
    chmod: dict[tuple[int, int], list[Any]] = {}
    for w in analysis.waste:
        if w.reason in ("deleted", "opaque"):
            acc = removed.setdefault((w.layer, w.hidden_by), [0, [], 0])
        elif w.reason == "metadata-only":
            acc = chmod.setdefault((w.layer, w.hidden_by), [0, [], 0])
        else:
            continue
        acc[0] += w.bytes
        acc[1].append((w.bytes, w.path))
        acc[2] += 1
    for (li, by), (size, items, count) in removed.items():
        if size <= 0:
            continue
        items.sort(key=lambda t: (-t[0], t[1]))
        hints.append(Hint("removed-later", f"files added in layer {li} and removed in layer {by}",
                          base.removed(li, by) if base.has(li) else base.copied(
                              li, "remove them in the same RUN that creates them (they still "
                              f"ship in layer {li})"), size, li, [p for _, p in items[:5]], count))
    for (li, by), (size, items, count) in chmod.items():
        if size <= 0:
            continue
        items.sort(key=lambda t: (-t[0], t[1]))
        hints.append(Hint("chmod-duplicate",
                          f"layer {by} stores {plural(count, 'file')} of layer {li} again with the same "
                          "content, changing only mode, owner or time",
                          base.restored(li, by) if base.has(li) else
                          "where a `RUN chmod/chown` did this, set mode and owner while copying "
                          "(`COPY --chown=... --chmod=...`)", size, by, [p for _, p in items[:5]],
                          count))
    hints.sort(key=lambda h: (-h.bytes, h.id))
    return hints
