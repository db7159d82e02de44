"""What a slim removes: the final tree of the analysis minus --remove globs and presets.

Globs: a pattern starting with `/` is anchored at the root, any other matches at
any depth (like .gitignore); `*` and `?` stay within one path segment, `**`
crosses segments. A match removes the path and everything under it. A pattern
starting with `!` keeps paths that an earlier pattern of the same rule matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slimscope.errors import BadInput
from slimscope.index.records import parent_of

# name -> (what it is, globs). Nothing is removed unless asked.
PRESETS = {
    "apt": ("apt package lists and downloaded .deb archives",
            ["/var/lib/apt/lists/*", "!/var/lib/apt/lists/partial", "!/var/lib/apt/lists/lock",
             "/var/cache/apt/*.bin", "/var/cache/apt/archives/*.deb",
             "/var/cache/apt/archives/partial/*"]),
    "pip": ("pip's download and wheel caches", [".cache/pip", "/tmp/pip-*"]),
    "npm": ("npm and yarn caches and logs",
            [".npm/_cacache", ".npm/_logs", ".cache/yarn", "/usr/local/share/.cache/yarn"]),
    "apk": ("apk's package cache", ["/var/cache/apk/*"]),
    "docs": ("documentation, man and info pages, locales other than the ones set",
             ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*",
              "/usr/share/locale/*"]),
    "pycache": ("Python bytecode caches (__pycache__ directories)", ["__pycache__"]),
    "tmp": ("temporary files", ["/tmp/*", "/var/tmp/*"]),
}


def glob_regex(pattern: str) -> str:
    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if body.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = body.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                cls = body[i + 1:j]
                if cls.startswith("!"):
                    cls = "^" + cls[1:]
                out.append("[" + cls.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return ("/" if anchored else "(?:.*/)?") + "".join(out)


@dataclass
class Rule:
    name: str          # "preset:apt" or "remove:GLOB"
    description: str
    globs: list
    paths: int = 0     # final paths it removes (subtrees counted)
    bytes: int = 0     # bytes of content units it frees (no surviving hardlink twin)
    examples: list = field(default_factory=list)

    def __post_init__(self):
        take = [glob_regex(g) for g in self.globs if not g.startswith("!")]
        keep = [glob_regex(g[1:]) for g in self.globs if g.startswith("!")]
        if not take:
            raise BadInput(f"{self.name}: nothing to match (only '!' patterns)")
        self._take = re.compile("(?:" + "|".join(take) + r")\Z", re.S)
        self._keep = re.compile("(?:" + "|".join(keep) + r")\Z", re.S) if keep else None

    def matches(self, path: str) -> bool:
        return bool(self._take.match(path)) and not (self._keep and self._keep.match(path))


@dataclass
class Plan:
    rules: list
    removed: dict        # final path -> rule name
    freed_units: dict    # unit ref -> rule name (every final name of it removed)
    survivors: dict      # removed path -> surviving hardlink twins (sorted), when any

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.rules)

    def __bool__(self):
        return bool(self.removed)

    def is_removed(self, path: str) -> bool:
        return path in self.removed


def _locale_keeps(config: dict) -> list:
    """Locale directories to keep for the docs preset: the ones LANG/LC_*/LANGUAGE name."""
    env = (config.get("config") or {}).get("Env") or []
    keep = set()
    for item in env:
        key, _, value = item.partition("=")
        if key in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            for part in value.split(":"):
                name = part.split(".")[0].split("@")[0]
                if name and name not in ("C", "POSIX"):
                    keep.add(name)
                    keep.add(name.split("_")[0])
    return sorted(keep)


def make_rules(removes, presets, config: dict) -> list:
    rules = []
    for name in presets:
        if name not in PRESETS:
            raise BadInput(f"no preset {name!r}; presets: {', '.join(PRESETS)}")
        desc, globs = PRESETS[name]
        globs = list(globs)
        if name == "docs":
            globs += [f"!/usr/share/locale/{loc}" for loc in _locale_keeps(config)]
        rules.append(Rule(f"preset:{name}", desc, globs))
    for g in removes:
        if not g or g.startswith("!"):
            raise BadInput(f"--remove wants a glob such as '/var/cache/*' or '*.log', got {g!r}")
        rules.append(Rule(f"remove:{g}", "asked for with --remove", [g]))
    return rules


def make_plan(analysis, removes=(), presets=(), extra_rules=()) -> Plan:
    """extra_rules: Rule objects another planner made (slim --trace's NotKept)."""
    rules = make_rules(removes, presets, analysis.image.config) + list(extra_rules)
    composed = analysis.composed
    final = composed.final
    removed: dict = {}
    if rules:
        for path in sorted(final):     # a parent sorts before its children
            rule = removed.get(parent_of(path)) if path != "/" else None
            if rule is None:
                for r in rules:
                    if r.matches(path):
                        rule = r.name
                        break
            if rule is not None:
                removed[path] = rule
    by_name = {r.name: r for r in rules}
    names_of: dict = {}
    for path, ref in final.items():
        unit = composed.unit_of(ref)
        if unit is not None:
            names_of.setdefault(unit, []).append(path)
    freed: dict = {}
    survivors: dict = {}
    for path, rule in removed.items():
        r = by_name[rule]
        r.paths += 1
        if len(r.examples) < 5:
            r.examples.append(path)
        unit = composed.unit_of(final[path])
        if unit is None:
            continue
        alive = sorted(p for p in names_of[unit] if p not in removed)
        if alive:
            survivors[path] = alive
        elif unit not in freed:
            freed[unit] = rule
            r.bytes += composed.unit_size(unit)
    return Plan(rules, removed, freed, survivors)


def removed_subtree_roots(plan: Plan) -> list:
    """The topmost removed paths (for printing)."""
    return [p for p in sorted(plan.removed) if parent_of(p) not in plan.removed]

