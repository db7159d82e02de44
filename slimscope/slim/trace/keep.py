"""What a traced slim keeps, and why: the files the probes used, their ELF closure,
what --include and --include-preset name, and every entry that costs no bytes.

Reasons, in the order a path is credited to the first that applies:
traced (opened, executed or mapped during a probe), python-source (the .py of a
traced __pycache__ .pyc), include (--include GLOB), volume (under a VOLUME of the
config: the engine copies it into a volume the watch does not see), preset:NAME
(--include-preset), listed (--keep-from), elf (the interpreter or a DT_NEEDED
library of a kept file, and the symlinks leading to it), base (--keep-base: the
base layers stay whole), zero-byte (directories, symlinks, device nodes, FIFOs
and empty files: paths are looked up through them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slimscope.errors import BadInput
from slimscope.index.records import BLOCK, CHAR, DIR, FIFO, SYMLINK
from slimscope.slim.plan import Plan, Rule, make_plan

ZERO_BYTE_KINDS = (DIR, SYMLINK, CHAR, BLOCK, FIFO)

# name -> (what it is, globs). Files that a run rarely opens but a real one may.
INCLUDE_PRESETS = {
    "ca-certificates": ("CA certificates and the TLS configuration",
                        ["/etc/ssl", "/etc/ca-certificates", "/etc/ca-certificates.conf",
                         "/usr/share/ca-certificates", "/etc/pki", "/usr/lib/ssl"]),
    "tzdata": ("timezone data", ["/usr/share/zoneinfo", "/etc/localtime", "/etc/timezone"]),
    "users": ("user and group databases and name-service configuration",
              ["/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/host.conf",
               "/etc/gai.conf"]),
    "locale": ("the locale LANG/LC_ALL name", []),    # globs from the image's Env
}


def locale_globs(config: dict) -> list:
    env = (config.get("config") or {}).get("Env") or []
    names = set()
    for item in env:
        key, _, value = item.partition("=")
        if key in ("LANG", "LC_ALL", "LANGUAGE", "LC_MESSAGES", "LC_CTYPE"):
            for part in value.split(":"):
                if part and part.split(".")[0] not in ("C", "POSIX"):
                    names.add(part)
    globs = []
    for name in sorted(names):
        base = name.split(".")[0].split("@")[0]
        globs += [f"/usr/lib/locale/{name}", f"/usr/lib/locale/{base}*",
                  f"/usr/share/locale/{base}", f"/usr/share/locale/{base.split('_')[0]}",
                  f"/usr/share/i18n/locales/{base}"]
    if globs:
        globs.append("/usr/lib/locale/locale-archive")
    return globs


_PYC = re.compile(r"(.*)/__pycache__/([^/.]+)\.[^/]*\.pyc\Z", re.S)


def python_source(path: str):
    """The source a __pycache__ .pyc was compiled from. Python only stats the source
    (no open, so no event) before it loads the .pyc, yet without the source it
    will not import the module at all."""
    m = _PYC.match(path)
    return f"{m.group(1)}/{m.group(2)}.py" if m else None


def _matcher(globs):
    """path -> does a glob name it, in the dialect --remove speaks (a Rule's own match,
    so it follows plan.py wherever the shared glob module takes it)."""
    if not globs:
        return None
    return Rule("include", "asked for with --include", list(globs)).matches


@dataclass
class Kept:
    reasons: dict = field(default_factory=dict)      # path -> reason
    missing_libs: list = field(default_factory=list)  # (file, library) the image lacks
    notes: list = field(default_factory=list)

    def add(self, path: str, reason: str) -> None:
        self.reasons.setdefault(path, reason)

    def by_reason(self, tree) -> dict:
        """reason -> {"paths": n, "bytes": content bytes (each unit once)}"""
        out: dict = {}
        seen: set = set()
        for path, reason in self.reasons.items():
            r = out.setdefault(reason, {"paths": 0, "bytes": 0})
            r["paths"] += 1
            unit = tree.composed.unit_of(tree.final[path])
            if unit is not None and unit not in seen:
                seen.add(unit)
                r["bytes"] += tree.composed.unit_size(unit)
        return out


def _keep_matches(tree, kept: Kept, globs, reason: str) -> list:
    """Keep what globs name (subtrees whole, symlinks with their targets); the files kept."""
    named = _matcher(globs)
    if named is None:
        return []
    files = []
    for path in sorted(tree.final):
        if not named(path):
            continue
        for p in tree.under(path):
            chain: list = []
            real = tree.resolve(p, chain)
            for q in [p] + chain + ([real] if real else []):
                if q in tree.final and q not in kept.reasons:
                    kept.add(q, reason)
                    if tree.is_file(q):
                        files.append(q)
    return files


def compute(tree, config: dict, traced=(), includes=(), presets=(), view=None,
            base_layers: int = 0, listed=()) -> Kept:
    """The kept set. view (a RootView) is needed for the ELF closure; without it (a
    --keep-from run) the list is taken as already closed."""
    from slimscope.slim.trace.elf import Closure

    kept = Kept()
    files = []
    for p in traced:
        real = tree.resolve(p)
        if real is not None and tree.is_file(real):
            kept.add(real, "traced")
            files.append(real)
    for p in list(files):
        src = python_source(p)
        if src and tree.is_file(src):
            kept.add(src, "python-source")
    files += _keep_matches(tree, kept, list(includes), "include")
    # The engine copies what the image holds under a VOLUME into a fresh volume, a
    # filesystem the watch does not see: what a probe reads there leaves no trace.
    volumes = sorted((config.get("config") or {}).get("Volumes") or {})
    files += _keep_matches(tree, kept, [v if v.startswith("/") else "/" + v for v in volumes],
                           "volume")
    for name in presets:
        if name not in INCLUDE_PRESETS:
            raise BadInput(f"no include preset {name!r}; presets: {', '.join(INCLUDE_PRESETS)}")
        globs = INCLUDE_PRESETS[name][1] or locale_globs(config)
        files += _keep_matches(tree, kept, globs, f"preset:{name}")
    absent = 0
    for p in listed:
        if p in tree.final:
            kept.add(p, "listed")
        else:
            absent += 1
    if absent:
        kept.notes.append(f"{absent} path(s) of the keep list are not in this image")
    if view is not None:
        closure = Closure(view, (config.get("config") or {}).get("Env"))
        closure.add(files)
        for p in sorted(closure.found):
            kept.add(p, "elf")
        kept.missing_libs = closure.missing
    for path in tree.final:
        if base_layers and tree.layer_of(path) < base_layers:
            kept.add(path, "base")
        elif tree.kind(path) in ZERO_BYTE_KINDS or (tree.is_file(path) and tree.size(path) == 0):
            kept.add(path, "zero-byte")
    return kept


class NotKept(Rule):
    """The one removal rule of a traced slim: every path the kept set lacks."""

    def __init__(self, keep: set):
        self.keep = keep
        super().__init__("trace:unused", "not used by the probes, not needed by a used file",
                         [])

    def __post_init__(self) -> None:     # no globs: matches() asks the kept set
        pass

    def matches(self, path: str) -> bool:
        return path not in self.keep


def plan_for(analysis, kept: Kept, removes=(), presets=()) -> Plan:
    return make_plan(analysis, removes, presets, extra_rules=[NotKept(set(kept.reasons))])
