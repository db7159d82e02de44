"""Advice backed by measured bytes, each naming the layer (and so the command) to change."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from slimscope.compose import unpack
from slimscope.layerindex import FILE, HARDLINK


@dataclass
class Hint:
    id: str
    title: str
    advice: str
    bytes: int
    layer: int
    paths: list = field(default_factory=list)   # the largest few
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


def _compile(globs):
    return re.compile("|".join(fnmatch.translate(g) for g in globs))


_COMPILED = [(rid, title, advice, _compile(globs)) for rid, title, advice, globs in FINAL_RULES]


def find_hints(analysis) -> list:
    composed = analysis.composed
    # (rule id, layer) -> [bytes, [(size, path)], count]
    found: dict = {}
    for path, ref in composed.final.items():
        li, i = unpack(ref)
        idx = composed.layers[li]
        kind = idx.kinds[i]
        if kind != FILE and kind != HARDLINK:
            continue
        size = idx.sizes[i] if kind == FILE else 0  # a hardlink's body is counted at its file
        for rid, _, _, rx in _COMPILED:
            if rx.match(path):
                acc = found.setdefault((rid, li), [0, [], 0])
                acc[0] += size
                acc[1].append((size, path))
                acc[2] += 1
                break
    meta = {rid: (title, advice) for rid, title, advice, _ in _COMPILED}
    hints = []
    for (rid, li), (size, items, count) in found.items():
        if size <= 0:
            continue
        title, advice = meta[rid]
        items.sort(key=lambda t: (-t[0], t[1]))
        hints.append(Hint(rid, title, advice, size, li, [p for _, p in items[:5]], count))

    # Waste, grouped by the layer that stores it and the layer that hid it.
    removed: dict = {}
    chmod: dict = {}
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
