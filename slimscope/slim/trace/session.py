"""`slim --trace` and `slim --keep-from`: run the probes on the original, decide what
is kept, and replay the probes on the slimmed image before anything is committed."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from slimscope.errors import BadInput, CheckFailed
from slimscope.slim.trace import keep, keeplist, probes
from slimscope.slim.trace.containers import Containers, HeldRoot
from slimscope.slim.trace.tree import RootView, Tree


@dataclass
class TraceOptions:
    trace: bool = False
    execs: tuple = ()
    http: tuple = ()
    script: str | None = None
    duration: float | None = None
    includes: tuple = ()
    include_presets: tuple = ()
    keep_list: str | None = None
    keep_from: str | None = None

    @property
    def active(self) -> bool:
        return self.trace or bool(self.keep_from)

    def check(self, force: bool = False) -> None:
        import os
        if self.keep_list and os.path.lexists(self.keep_list) and not force:
            raise BadInput(f"{self.keep_list} exists; pass --force to replace it")
        if self.trace and self.keep_from:
            raise BadInput("--keep-from reuses a keep list instead of tracing; drop --trace")
        uses = [name for name, v in (("--exec", self.execs), ("--http-probe", self.http),
                                     ("--probe-script", self.script),
                                     ("--duration", self.duration is not None),
                                     ("--include", self.includes),
                                     ("--include-preset", self.include_presets),
                                     ("--keep-list", self.keep_list)) if v]
        if uses and not self.active:
            raise BadInput(f"{uses[0]} goes with --trace (or --keep-from)")


def _say(text: str) -> None:
    """A stage of the long work, on stderr when it is a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(f"slimscope: {text}\n")
        sys.stderr.flush()


@dataclass
class Session:
    """One traced slim: the containers it made, the plan, the proof."""

    opts: TraceOptions
    client: object
    containers: Containers
    original: str                     # the image the probes run on (an engine reference)
    probes: probes.Probes
    ports: list
    outcomes: list = field(default_factory=list)
    replayed: list = field(default_factory=list)
    kept: keep.Kept | None = None
    tree: Tree | None = None
    traced_paths: int = 0
    timings: dict = field(default_factory=dict)
    base_layers: int = 0              # with --keep-base: these layers stay whole

    def close(self) -> None:
        self.containers.remove_all()

    # -- on the original ------------------------------------------------------
    def observe(self, before) -> keep.Kept:
        from slimscope.slim.trace.tracer import Tracer

        listed = keeplist.read(self.opts.keep_from) if self.opts.keep_from else ()
        t0 = time.monotonic()
        tracer = Tracer(self.client) if self.opts.trace else None
        _say(("tracing " if tracer else "running ") + ", ".join(self._names()) +
             " on the original image")
        try:
            self.outcomes = probes.run_all(self.containers, self.original, self.probes,
                                           self.ports, tracer)
        finally:
            if tracer is not None:
                tracer.close()
        self.timings["probes_on_original_s"] = round(time.monotonic() - t0, 3)
        for o in self.outcomes:
            why = o.fails()
            if why:
                raise BadInput(f"the probe fails on the original image already: {o.probe} "
                               f"gives {why}; nothing was written")
        self.tree = Tree(before)
        config = before.image.config
        t0 = time.monotonic()
        if tracer is None:
            kept = keep.compute(self.tree, config, (), self.opts.includes,
                                self.opts.include_presets, None, self.base_layers, listed)
        else:
            self.traced_paths = len(tracer.paths)
            cid = self.containers.create(self.original, "root", command=["/slimscope-not-run"],
                                         network_disabled=True)
            held = HeldRoot(self.client, cid)
            try:
                kept = keep.compute(self.tree, config, sorted(tracer.paths),
                                    self.opts.includes, self.opts.include_presets,
                                    RootView(self.tree, held.merged), self.base_layers)
            finally:
                held.release()
                self.containers.remove(cid)
        self.timings["keep_s"] = round(time.monotonic() - t0, 3)
        self.kept = kept
        return kept

    def plan(self, before, removes, presets, base_layers: int):
        self.base_layers = base_layers
        return keep.plan_for(before, self.observe(before), removes, presets)

    # -- on the slimmed image ------------------------------------------------
    def _names(self) -> list:
        names = [e.name for e in self.probes.execs]
        if self.probes.service is not None:
            names.append("the service")
        return names

    def replay(self, slimmed_ref: str) -> None:
        _say("replaying the probes on the slimmed image")
        t0 = time.monotonic()
        self.replayed = probes.run_all(self.containers, slimmed_ref, self.probes, self.ports,
                                       None, replay=True)
        self.timings["replay_s"] = round(time.monotonic() - t0, 3)
        diffs = probes.differences(self.outcomes, self.replayed)
        if diffs:
            lines = [f"the slimmed image answers {len(diffs)} probe(s) differently; "
                     "nothing was tagged or written:"]
            for name, a, b in diffs:
                lines.append(f"  {name}\n    original: {a}\n    slimmed:  {b}")
            raise CheckFailed("\n".join(lines))

    def write_keep_list(self, before, force: bool) -> None:
        if self.opts.keep_list:
            keeplist.write(self.opts.keep_list,
                           keeplist.render(self.kept, before.image.reference, before.image.id),
                           force)

    # -- the report ------------------------------------------------------------
    def doc(self, before, plan) -> dict:
        tree, kept = self.tree, self.kept
        assert kept is not None, "the report is made after plan()"
        return {
            "mode": "trace" if self.opts.trace else "keep-from",
            "keep_from": self.opts.keep_from,
            "keep_list": self.opts.keep_list,
            "paths_seen": self.traced_paths,
            "kept_by_reason": kept.by_reason(tree),
            "removed_paths": len(plan.removed),
            "missing_libraries": [{"file": f, "needs": n} for f, n in kept.missing_libs],
            "probes": [{"probe": a.probe, "original": a.shown,
                        "slimmed": b.shown if b is not None else None,
                        "same": b is not None and a.result == b.result}
                       for a, b in _pairs(self.outcomes, self.replayed)],
            "bytes_by_layer": _by_layer(tree, plan),
            "bytes_by_directory": _by_directory(tree, plan),
            "timings": self.timings,
            "notes": kept.notes,
        }


def _pairs(a, b):
    for i, o in enumerate(a):
        yield o, (b[i] if i < len(b) else None)


def _units(tree, plan):
    """(path, unit, size, kept) once per content unit the final tree shows."""
    seen = set()
    for path in sorted(tree.final):
        unit = tree.composed.unit_of(tree.final[path])
        if unit is None or unit in seen:
            continue
        seen.add(unit)
        yield path, unit, tree.composed.unit_size(unit), unit not in plan.freed_units


def _by_layer(tree, plan) -> list:
    rows: dict = {}
    for _path, unit, size, kept in _units(tree, plan):
        r = rows.setdefault(unit >> 32, {"layer": unit >> 32, "before": 0, "after": 0})
        r["before"] += size
        r["after"] += size if kept else 0
    return [rows[k] for k in sorted(rows)]


def _by_directory(tree, plan, depth: int = 2, top: int = 15) -> list:
    rows: dict = {}
    for path, _unit, size, kept in _units(tree, plan):
        parts = path.strip("/").split("/")
        key = "/" + "/".join(parts[:min(depth, len(parts) - 1)]) if len(parts) > 1 else "/"
        r = rows.setdefault(key, {"directory": key, "before": 0, "after": 0})
        r["before"] += size
        r["after"] += size if kept else 0
    return sorted(rows.values(), key=lambda r: -r["before"])[:top]


def render_text(doc: dict) -> str:
    from slimscope.core.fmt import size

    lines = [f"  {doc['mode']}: {doc['paths_seen']} path(s) seen by the probes; kept by reason:"
             if doc["mode"] == "trace" else f"  kept from {doc['keep_from']}; by reason:"]
    for reason, r in sorted(doc["kept_by_reason"].items(), key=lambda kv: -kv[1]["bytes"]):
        lines.append(f"    {reason:22}{r['paths']:>8} path(s){size(r['bytes']):>12}")
    lines.append(f"  removed {doc['removed_paths']} path(s) no probe needed")
    lines.append(f"  {'bytes by layer':30}{'before':>12}{'after':>12}")
    for r in doc["bytes_by_layer"]:
        lines.append(f"    {'layer ' + str(r['layer']):28}{size(r['before']):>12}"
                     f"{size(r['after']):>12}")
    lines.append(f"  {'bytes by directory':30}{'before':>12}{'after':>12}")
    for r in doc["bytes_by_directory"]:
        lines.append(f"    {r['directory'][:28]:28}{size(r['before']):>12}{size(r['after']):>12}")
    for p in doc["probes"]:
        verdict = ("not replayed (dry run)" if p["slimmed"] is None
                   else "same on the slimmed image" if p["same"] else "differs")
        lines.append(f"  probe {p['probe']}: {verdict}")
    for m in doc["missing_libraries"][:10]:
        lines.append(f"  note: {m['file']} needs {m['needs']}, which the image lacks")
    if doc["keep_list"]:
        lines.append(f"  keep list written to {doc['keep_list']}")
    for n in doc["notes"]:
        lines.append(f"  note: {n}")
    return "\n".join(lines)
