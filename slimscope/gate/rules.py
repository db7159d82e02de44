"""The gate's rules. Each is a small object: evaluate(analysis, ctx) -> RuleResult,
with what was measured, the budget, whether it passed, and for a failure the
files or layers that caused it (largest first)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from slimscope.core.fmt import short_command, size
from slimscope.core.report import secret_sentence
from slimscope.errors import BadInput
from slimscope.gate.config import GateConfig
from slimscope.gate.culprits import MAX_CULPRITS, Culprit, capped

# Path globs are slimscope.globs' dialect; glob_match stays importable from here.
from slimscope.globs import compile_glob, glob_match  # noqa: F401
from slimscope.index.records import DIR

if TYPE_CHECKING:
    import numpy as np

    from slimscope.core.analysis import Analysis
    from slimscope.core.delta import Diff, ImageView


@dataclass
class RuleResult:
    rule: str
    title: str
    passed: bool
    measured: object            # a number (bytes, ratio, count) as JSON keeps it
    budget: object
    measured_text: str
    budget_text: str
    culprits: list = field(default_factory=list)
    note: str = ""
    totals: dict = field(default_factory=dict)    # group -> how many culprits it has in all

    @property
    def summary(self) -> str:
        if self.rule in ("forbid", "no-hidden-secrets"):
            return f"{self.title}: {self.measured_text}; allowed: {self.budget_text}"
        if self.rule == "path-budgets":
            return f"{self.title}: {self.measured_text}"
        rel = "within" if self.passed else "over"
        if self.rule == "min-efficiency":
            rel = "meets" if self.passed else "below"
        return f"{self.title}: {self.measured_text} ({rel} budget {self.budget_text})"

    def as_dict(self) -> dict:
        return {"rule": self.rule, "title": self.title, "passed": self.passed,
                "measured": self.measured, "budget": self.budget,
                "measured_text": self.measured_text, "budget_text": self.budget_text,
                "summary": self.summary, "note": self.note,
                "culprits": [c.as_dict() for c in self.culprits],
                "culprit_totals": dict(self.totals)}


@dataclass
class Context:
    config: GateConfig
    top: int = 10
    baseline: Optional[ImageView] = None
    _diff: Optional[Diff] = None

    def diff(self, analysis: Analysis) -> Diff:
        if self._diff is None:
            from slimscope.core.delta import compare, view_of
            if self.baseline is None:
                raise BadInput("max-growth needs a baseline")
            self._diff = compare(self.baseline, view_of(analysis))
        return self._diff




# --------------------------------------------------------------------------- #
# Rules
# --------------------------------------------------------------------------- #

class Rule:
    name = ""
    title = ""

    def __init__(self, budget):
        self.budget = budget

    def evaluate(self, analysis, ctx: Context) -> RuleResult:
        raise NotImplementedError

    def result(self, passed, measured, budget, mtext, btext, culprits=(), note="",
               totals=None) -> RuleResult:
        culprits = list(culprits)
        if totals is None:        # one group, all of it listed
            totals = {}
            for c in culprits:
                if not c.heading:
                    totals[c.group] = totals.get(c.group, 0) + 1
        return RuleResult(self.name, self.title, passed, measured, budget, mtext, btext,
                          culprits, note, totals)


def _layer_culprit(analysis, l, n: int, what: str = "") -> Culprit:
    return Culprit(f"{size(n)}{what} in layer {l.index}: {short_command(l.command, 70)}",
                   n, None, l.index, group="layers")


def _largest_files(analysis) -> tuple[list, dict]:
    t = analysis.final_table
    top = heapq.nsmallest(MAX_CULPRITS, t.counted_files(), key=lambda f: (-f[1], f[0]))
    return capped((Culprit(f"{size(n)} {p}", n, p) for p, n in top), "files",
                  len(t.counted_rows()))


def _largest_waste(analysis) -> tuple[list, dict]:
    items = sorted(analysis.waste, key=lambda w: (-w.bytes, w.path))
    return capped((Culprit(f"{size(w.bytes)} {w.path}: stored in layer {w.layer}, {w.reason} "
                           f"in layer {w.hidden_by}", w.bytes, w.path, w.layer)
                   for w in items[:MAX_CULPRITS]), "wasted files", len(items))


class MaxSize(Rule):
    name, title = "max-size", "final size"

    def evaluate(self, analysis, ctx):
        n = analysis.final_bytes
        culprits, totals = [], {}
        if n > self.budget:
            layers = sorted(analysis.layers, key=lambda l: -(l.bytes - l.wasted_bytes))
            culprits = [_layer_culprit(analysis, l, l.bytes - l.wasted_bytes, " visible")
                        for l in layers if l.bytes - l.wasted_bytes > 0]
            totals = {"layers": len(culprits)}
            files, more = _largest_files(analysis)
            culprits += files
            totals.update(more)
        return self.result(n <= self.budget, n, self.budget, size(n), size(self.budget), culprits,
                           totals=totals)


class MaxCompressedSize(Rule):
    name, title = "max-compressed-size", "compressed size"

    def evaluate(self, analysis, ctx):
        sizes = {l.index: l.compressed_bytes for l in analysis.layers}
        measured = any(l.compressed_measured for l in analysis.layers)
        if None in sizes.values():
            # Not measured before the gate ran: measure here, leaving the analysis as it is.
            from slimscope.core.analysis import compressed_sizes
            sizes.update(compressed_sizes(analysis))
            measured = True
        note = ("layers are stored uncompressed here; gzip-compressed to measure, as a push "
                "would") if measured else ""
        n = sum(sizes.values())
        culprits = []
        if n > self.budget:
            layers = sorted(analysis.layers, key=lambda l: -(sizes[l.index] or 0))
            culprits = [_layer_culprit(analysis, l, sizes[l.index], " compressed")
                        for l in layers]
        return self.result(n <= self.budget, n, self.budget, size(n), size(self.budget), culprits,
                           note)


class MaxWastedBytes(Rule):
    name, title = "max-wasted-bytes", "wasted bytes"

    def evaluate(self, analysis, ctx):
        n = analysis.wasted_bytes
        ok = n <= self.budget
        culprits, totals = ([], {}) if ok else _largest_waste(analysis)
        return self.result(ok, n, self.budget, size(n), size(self.budget), culprits,
                           totals=totals)


class MaxWastedPercent(Rule):
    name, title = "max-wasted-percent", "wasted share"

    def evaluate(self, analysis, ctx):
        total = analysis.total_bytes
        pct = 0.0 if total == 0 else 100 * analysis.wasted_bytes / total
        ok = pct <= self.budget
        culprits, totals = ([], {}) if ok else _largest_waste(analysis)
        return self.result(ok, round(pct, 4), self.budget,
                           f"{pct:.1f}% ({size(analysis.wasted_bytes)} of {size(total)})",
                           f"{self.budget:g}%", culprits, totals=totals)


class MinEfficiency(Rule):
    name, title = "min-efficiency", "efficiency"

    def evaluate(self, analysis, ctx):
        eff = analysis.efficiency
        ok = eff >= self.budget
        culprits, totals = ([], {}) if ok else _largest_waste(analysis)
        return self.result(ok, round(eff, 6), self.budget, f"{eff:.1%}", f"{self.budget:.1%}",
                           culprits, totals=totals)


class MaxLayers(Rule):
    name, title = "max-layers", "layers"

    def evaluate(self, analysis, ctx):
        n = len(analysis.layers)
        culprits = []
        if n > self.budget:
            # The smallest layers are the cheapest to merge into a neighbour.
            small = sorted(analysis.layers, key=lambda l: (l.bytes, l.index))[:n - self.budget]
            culprits = [Culprit(f"layer {l.index} holds only {size(l.bytes)}, merge it into a "
                                f"neighbour: {short_command(l.command, 60)}", l.bytes, None,
                                l.index, group="layers")
                        for l in sorted(small, key=lambda l: l.index)]
        return self.result(n <= self.budget, n, self.budget, str(n), str(self.budget), culprits)


class MaxLayerSize(Rule):
    name, title = "max-layer-size", "largest layer"

    def evaluate(self, analysis, ctx):
        biggest = max((l.bytes for l in analysis.layers), default=0)
        over = sorted((l for l in analysis.layers if l.bytes > self.budget), key=lambda l: -l.bytes)
        return self.result(not over, biggest, self.budget, size(biggest), size(self.budget),
                           [_layer_culprit(analysis, l, l.bytes) for l in over])


class Forbid(Rule):
    name, title = "forbid", "forbidden paths"

    def __init__(self, globs: list):
        self.globs = list(globs)
        for g in self.globs:
            compile_glob(g)

    def evaluate(self, analysis, ctx):
        t = analysis.final_table
        paths = t.paths
        kinds = t.kind.tolist()
        counted = t.counted
        covered = bytearray(len(paths))   # rows under a directory already reported
        hits = []
        # Row 0 is the root: a glob that matches it finds its top-level entries instead.
        for g in t.listed_rows():
            if g == 0:
                continue
            if covered[g]:
                continue
            p = paths[g]
            glob = next((gl for gl in self.globs if glob_match(gl, p)), None)
            if glob is None:
                continue
            if kinds[g] == DIR:
                entries = t.entries_under(g)
                if not entries:
                    continue   # an empty directory holds nothing to forbid
                n = t.bytes_under(g)
                hits.append(Culprit(f"{p}/ ({entries} entries, {size(n)}) matches {glob!r}",
                                    n, p, t.layer_of(g)))
                lo, hi = int(t.lo[g]), int(t.hi[g])
                covered[lo:hi] = b"\1" * (hi - lo)
            else:
                n = int(counted[g])
                hits.append(Culprit(f"{p} ({size(n)}) matches {glob!r}", n, p, t.layer_of(g)))
        hits.sort(key=lambda c: (-(c.bytes or 0), c.path))
        n = len(hits)
        culprits, totals = capped(hits, "paths")
        return self.result(n == 0, n, 0, f"{n} path{'s' if n != 1 else ''} found",
                           "none matching " + ", ".join(self.globs), culprits, totals=totals)


class NoHiddenSecrets(Rule):
    name, title = "no-hidden-secrets", "hidden secrets"

    def __init__(self, allow: list):
        self.allow = list(allow)
        for g in self.allow:
            compile_glob(g)

    def evaluate(self, analysis, ctx):
        found = [w for w in analysis.secrets
                 if not any(glob_match(g, w.path) for g in self.allow)]
        culprits = [Culprit(secret_sentence(analysis, w), w.bytes, w.path, w.layer,
                            group="secrets") for w in found]
        n = len(found)
        return self.result(n == 0, n, 0, f"{n} deleted or overwritten secret file"
                           f"{'s' if n != 1 else ''} still stored", "none", culprits)


class PathBudgets(Rule):
    name, title = "path-budgets", "path budgets"

    def __init__(self, budgets: dict):
        self.budgets = dict(budgets)
        for g in self.budgets:
            compile_glob(g)

    def measure(self, analysis, ctx) -> dict:
        """glob -> [(path, bytes)] of the bodies it covers, in path order."""
        t = analysis.final_table
        rows = t.counted_rows()
        out = {}
        for glob in self.budgets:
            covers = _covered(t, compile_glob(glob).pattern)
            out[glob] = [(t.paths[g], int(t.counted[g])) for g in rows if covers[g]]
        return out

    def evaluate(self, analysis, ctx):
        measured = self.measure(analysis, ctx)
        culprits, parts, over, totals = [], [], 0, {}
        for glob, budget in self.budgets.items():
            got = sum(n for _, n in measured[glob])
            parts.append(f"{glob} {size(got)} of {size(budget)}")
            if got > budget:
                over += 1
                group = f"files under {glob}"
                culprits.append(Culprit(f"{glob}: {size(got)} over its budget of {size(budget)}",
                                        got, glob, group=group, heading=True))
                files = sorted(measured[glob], key=lambda t: (-t[1], t[0]))
                listed, more = capped((Culprit(f"  {size(n)} {p}", n, p)
                                       for p, n in files[:MAX_CULPRITS]), group, len(files))
                culprits += listed
                totals.update(more)
        return self.result(over == 0, {g: sum(n for _, n in m) for g, m in measured.items()},
                           dict(self.budgets), "; ".join(parts),
                           f"{len(self.budgets)} glob{'s' if len(self.budgets) != 1 else ''}",
                           culprits, totals=totals)


def _covered(t, rx) -> np.ndarray:
    """Per row of a path table: does the glob match it or a directory above it (not the
    root)? A glob that names a directory covers what is under it."""
    import numpy as np  # only path rules need it: ~0.1 s of every other gate's start-up
    hit = np.fromiter((rx.match(p) is not None for p in t.paths), bool, len(t.paths))
    hit[0] = False
    rows = np.nonzero(hit)[0]
    depth = np.zeros(len(t.paths) + 1, np.int64)
    np.add.at(depth, t.lo[rows], 1)
    np.add.at(depth, t.hi[rows], -1)
    return hit | (np.cumsum(depth[:-1]) > 0)


class MaxGrowth(Rule):
    name, title = "max-growth", "growth over baseline"

    def evaluate(self, analysis, ctx):
        d = ctx.diff(analysis)
        old = d.old.totals.final_bytes or 0
        growth = d.growth
        limit = self.budget.limit(old)
        ok = growth <= limit
        pct = f" ({growth / old:+.1%})" if old else ""
        from slimscope.core.fmt import signed
        culprits, totals = [], {}
        if not ok:
            if d.files is not None:
                grown = [c for c in d.files if c.delta > 0]
                culprits, totals = capped(
                    (Culprit(f"{signed(c.delta)} {c.path} ({c.change})", c.delta, c.path)
                     for c in grown[:MAX_CULPRITS]), "grown files", len(grown))
            culprits += [Culprit(f"new layer {l.index} ({size(l.bytes)}): "
                                 f"{short_command(l.command, 70)}",
                                 l.bytes, None, l.index, group="new layers")
                         for l in d.added_layers]
            totals["new layers"] = len(d.added_layers)
        budget_text = str(self.budget)
        if self.budget.percent is not None:
            budget_text += f" = {size(limit)}"
        note = (f"baseline {d.old.reference or d.old.origin}: {size(old)} final; now "
                f"{size(d.new.totals.final_bytes)}")
        if d.files is None:
            note += "; " + "; ".join(d.notes())
        return self.result(ok, growth, limit, signed(growth) + pct,
                           budget_text, culprits, note, totals=totals)


def build_rules(cfg: GateConfig) -> list[Rule]:
    """The enabled rules, in a fixed order."""
    rules: list[Rule] = []
    simple: tuple[tuple[type[Rule], object], ...] = (
        (MaxSize, cfg.max_size), (MaxCompressedSize, cfg.max_compressed_size),
        (MaxWastedBytes, cfg.max_wasted_bytes), (MaxWastedPercent, cfg.max_wasted_percent),
        (MinEfficiency, cfg.min_efficiency), (MaxLayers, cfg.max_layers),
        (MaxLayerSize, cfg.max_layer_size))
    for cls, value in simple:
        if value is not None:
            rules.append(cls(value))
    if cfg.forbid:
        rules.append(Forbid(cfg.forbid))
    if cfg.no_hidden_secrets:
        rules.append(NoHiddenSecrets(cfg.secrets_allow))
    if cfg.path_budgets:
        rules.append(PathBudgets(cfg.path_budgets))
    if cfg.max_growth is not None:
        rules.append(MaxGrowth(cfg.max_growth))
    return rules


def evaluate(analysis, ctx: Context) -> list:
    return [rule.evaluate(analysis, ctx) for rule in build_rules(ctx.config)]
