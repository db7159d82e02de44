"""What a slim removes: the final tree of the analysis minus --remove globs and presets.

Globs are slimscope.globs' dialect (the one `ci` reads): a pattern starting with `/`
is anchored at the root, any other matches at any depth; `*` and `?` stay within one
path segment, `**` crosses segments. A match removes the path and everything under
it, with one rule of slim's own: a trailing `/**` empties its directory and keeps it
(`--remove /var/cache/**` leaves an empty /var/cache, which a program may expect),
where the dialect alone would match the directory too. A pattern starting with `!`
keeps paths that an earlier pattern of the same rule matched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slimscope.catalog import PRESETS as CATALOG_PRESETS
from slimscope.catalog import globs_of, group
from slimscope.errors import BadInput
from slimscope.globs import union
from slimscope.index.records import parent_of

# name -> (what it is, globs): the catalogue's groups. Nothing is removed unless asked.
PRESETS = {name: (desc, [*globs_of(gids), *("!" + k for gid in gids for k in group(gid).keep)])
           for name, (desc, gids) in CATALOG_PRESETS.items()}


def _contents(glob: str) -> str:
    """`DIR/**` as `DIR/*`: what is under DIR, removed with its subtrees, not DIR."""
    g = glob.strip()
    return g[:-1] if g.endswith("/**") and not g.endswith("**/**") else glob


@dataclass
class Rule:
    name: str          # "preset:apt" or "remove:GLOB"
    description: str
    globs: list
    paths: int = 0     # final paths it removes (subtrees counted)
    bytes: int = 0     # bytes of content units it frees (no surviving hardlink twin)
    examples: list = field(default_factory=list)

    def __post_init__(self):
        take = [_contents(g) for g in self.globs if not g.startswith("!")]
        keep = [_contents(g[1:]) for g in self.globs if g.startswith("!")]
        if not take:
            raise BadInput(f"{self.name}: nothing to match (only '!' patterns)")
        self._take = union(take)
        self._keep = union(keep) if keep else None

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

