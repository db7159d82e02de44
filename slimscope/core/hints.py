"""Advice backed by measured bytes, each naming the layer (and so the command) to change."""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator
from itertools import accumulate, islice
from typing import TYPE_CHECKING, Any, Optional

from slimscope.core.compose import unpack
from slimscope.index.records import FILE, HARDLINK

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis


@dataclass
class Hint:
    id: str
    title: str
    advice: str
    bytes: int
    layer: int
    paths: list[str] = field(default_factory=list)   # the largest few
    count: int = 0


# Leftovers of package managers and builds, found in the final filesystem.
# (id, title, advice, path globs)
FINAL_RULES = [
    ("apt-lists", "apt package lists left in the image",
     "run `rm -rf /var/lib/apt/lists/*` in the same RUN as `apt-get update`",
     ["/var/lib/apt/lists/*"]),
    ("apt-archives", "downloaded .deb archives left in the image",
     "run `apt-get clean` (or `rm -rf /var/cache/apt/archives/*.deb`) in the same RUN",
     ["/var/cache/apt/archives/*.deb", "/var/cache/apt/*.bin"]),
    ("pip-cache", "pip's download cache left in the image",
     "use `pip install --no-cache-dir`", ["*/.cache/pip/*"]),
    ("npm-cache", "npm/yarn caches left in the image",
     "run `npm cache clean --force` / `yarn cache clean` in the same RUN, or mount a cache",
     ["*/.npm/_cacache/*", "*/.cache/yarn/*", "/usr/local/share/.cache/yarn/*", "*/.yarn/cache/*"]),
    ("apk-cache", "apk's cache left in the image", "use `apk add --no-cache`",
     ["/var/cache/apk/*"]),
    ("dnf-cache", "dnf/yum caches left in the image",
     "run `dnf clean all` (or `yum clean all`) in the same RUN", ["/var/cache/dnf/*", "/var/cache/yum/*"]),
    ("build-tools", "compilers and headers in the runtime image",
     "build in a separate stage and copy only the result (multi-stage build)",
     ["/usr/lib/gcc/*", "/usr/libexec/gcc/*", "/usr/bin/*gcc*", "/usr/bin/*g++*", "/usr/bin/cc1*",
      "/usr/bin/x86_64-linux-gnu-as", "/usr/bin/x86_64-linux-gnu-ld*", "/usr/bin/aarch64-linux-gnu-ld*",
      "/usr/include/*", "/usr/local/include/*", "/usr/lib/llvm-*/*", "/usr/bin/clang*"]),
    ("docs", "documentation, man pages and locales",
     "drop them in the same RUN, or use a dpkg path-exclude for /usr/share/doc, man and locale",
     ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*",
      "/usr/share/i18n/locales/*"]),
    ("pycache", "Python bytecode caches",
     "set PYTHONDONTWRITEBYTECODE=1 or drop `__pycache__` in the same RUN",
     ["*/__pycache__/*", "*.pyc"]),
]


def _pattern(globs: Iterable[str]) -> str:
    return "|".join(fnmatch.translate(g) for g in globs)


# All rules in one pattern, a named group per rule, in rule order. Alternatives are tried
# in order and each glob's translation ends in \Z with nothing after the group, so the
# group that matches names the first rule that matches on its own, as a loop over the
# rules that stops at the first match would.
_RULES = re.compile("|".join(f"(?P<r{k}>{_pattern(globs)})"
                             for k, (*_, globs) in enumerate(FINAL_RULES)))
_RULE_OF_GROUP = {f"r{k}": rid for k, (rid, *_) in enumerate(FINAL_RULES)}


def _needles(globs: list[str]) -> Optional[list[str]]:
    """Strings such that any path a glob matches, written between two NULs, contains
    one of them; None if some glob allows no such string.

    A glob's literal head must open the path (NUL + head), else its literal tail must
    close it (tail + NUL), else its longest stretch between two *s must be inside it.
    A needle that contains another adds nothing.
    """
    found = set()
    for g in globs:
        if any(c in g for c in "?[\0"):
            return None   # not plain literals and stars: no needle worked out for those
        pieces = g.split("*")
        longest = max(pieces, key=len)
        if pieces[0]:
            found.add("\0" + pieces[0])
        elif pieces[-1]:
            found.add(pieces[-1] + "\0")
        elif longest:
            found.add(longest)
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


def find_hints(analysis: Analysis) -> list[Hint]:
    composed = analysis.composed
    layers = composed.layers
    # (rule id, layer) -> [bytes, [(size, path)], count]
    found: dict[tuple[str, int], list[Any]] = {}
    match = _RULES.match
    for path, ref in _candidates(composed.final):
        m = match(path)
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
                          "remove them in the same RUN that creates them (they still ship in "
                          f"layer {li})", size, li, [p for _, p in items[:5]], count))
    for (li, by), (size, items, count) in chmod.items():
        if size <= 0:
            continue
        items.sort(key=lambda t: (-t[0], t[1]))
        hints.append(Hint("chmod-duplicate",
                          f"layer {by} stores {count} file(s) of layer {li} again with the same "
                          "content, changing only mode, owner or time",
                          "where a `RUN chmod/chown` did this, set mode and owner while copying "
                          "(`COPY --chown=... --chmod=...`)", size, by, [p for _, p in items[:5]],
                          count))
    hints.sort(key=lambda h: (-h.bytes, h.id))
    return hints
