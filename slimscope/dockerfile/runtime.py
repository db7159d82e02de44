"""The two stages of a split: the builder (the final stage, fixed in place) and the
runtime (what runs: config, runtime packages, setup commands, and COPY --from=builder
of what the build produced)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import List

from slimscope.dockerfile.classify import Segment, Step, package_install
from slimscope.dockerfile.fixes import Change, Out, run_text
from slimscope.dockerfile.stages import BOTH, RUNTIME_ONLY, Planned, from_ref, short

# Setup commands of a build step that the runtime needs too (users, directories, links).
_KEPT_SETUP = ("useradd", "adduser", "groupadd", "addgroup", "mkdir", "ln", "usermod")


def builder_stage(steps: List[Planned], builder: str) -> List[str]:
    lines = ["# slimscope: build stage: toolchain and sources stay here",
             f"FROM {from_ref(steps[0].ins)} AS {builder}"]
    for s in steps[1:]:
        if s.ins.cmd in RUNTIME_ONLY or not s.out.text:
            continue
        lines.append(s.out.text)
    return lines


@dataclass
class Runtime:
    """The runtime stage's body as it is written, and what it needs."""
    body: List[str] = field(default_factory=list)
    runs: List[Out] = field(default_factory=list)    # RUNs the runtime keeps
    changes: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def runtime_stage(steps: List[Planned], copies: list, builder: str, measure) -> Runtime:
    rt = Runtime()
    last_build = max(k for k, s in enumerate(steps) if s.builds)
    for k, s in enumerate(steps[1:], start=1):
        if not s.out.render():
            continue
        _runtime_step(rt, s, copies, measure)
        if k == last_build:
            rt.body.append("# slimscope: copy only what runs from the builder")
            rt.body += [f"COPY --from={builder} {p} {p}" for p in copies]
    return rt


def _runtime_step(rt: Runtime, s: Planned, copies: list, measure) -> None:
    out, ins, kind = s.out, s.ins, s.kind
    if kind in ("config", "copy", "add") or ins.cmd in BOTH or ins.cmd in RUNTIME_ONLY:
        rt.body.append(out.render())
        rt.changes += out.changes
    elif kind == "source":
        c = Change("build-sources", ins.line, "build inputs copied into the builder only")
        rt.body.append(c.render())
        rt.changes.append(c)
    elif kind == "install":
        text, ch = runtime_install(out, s.segments, s.step, measure)
        if text and not ch:
            ch = out.changes
        rt.changes += ch
        if text:
            rt.body.append("\n".join([c.render() for c in ch] + [text]))
            rt.runs.append(out)
        else:
            rt.body.extend(c.render() for c in ch)
    elif s.builds:
        _build_step(rt, s, copies, measure)
    elif kind in ("unknown", "runtime"):
        if kind == "unknown":
            rt.notes.append(f"line {ins.line} ({short(ins)}) is not classified: kept in both "
                            "stages; pass --image for the image-driven rewrite")
            rt.body.append("# slimscope: not classified, kept in both stages (check it)")
        rt.body.append(out.render())
        rt.changes += out.changes
        rt.runs.append(out)


def _build_step(rt: Runtime, s: Planned, copies: list, measure) -> None:
    """A build step runs in the builder only; its runtime packages and setup stay."""
    ins, step = s.ins, s.step
    lb = measure.layer_bytes(ins)
    kept = measure.bytes_under(ins, [c.rstrip("/") for c in copies])
    c = Change("build-step", ins.line, f"build step ({step.reason}) runs in the builder only",
               None if lb is None else max(0, lb - (kept or 0)))
    rt.changes.append(c)
    rt.body.append(c.render())
    if step.runtime_packages:
        inst = [(seg, kd) for seg, kd in s.segments if kd == "install"]
        text, ch = runtime_install(Out(ins, "", segs=[seg for seg, _ in inst]), inst, step, measure)
        rt.changes += ch
        rt.body.extend(c.render() for c in ch)
        if text:
            rt.body.append(text)
            rt.runs.append(s.out)
    keep = [seg for seg, kd in s.segments if kd == "runtime" and seg.prog in _KEPT_SETUP]
    if keep:
        keep = [Segment(seg.text, "&&" if i else "", seg.words) for i, seg in enumerate(keep)]
        rt.body.append(run_text(ins, keep))
        rt.runs.append(s.out)


def runtime_install(out: Out, seg_kinds, step: Step, measure) -> tuple:
    """The install RUN with build packages taken out; ('', changes) when nothing remains."""
    segs = out.segs if out.segs is not None else [s for s, _ in seg_kinds]
    removed = list(step.build_packages)
    if not removed:
        return out.text or run_text(out.ins, segs), []
    keep_pkgs = set(step.runtime_packages)
    new = []
    any_install = False
    for s in segs:
        pi = package_install(s)
        if pi:
            pkgs = [p for p in pi[1] if p in keep_pkgs]
            if not pkgs:
                continue
            words = [w for w in s.argv if w not in removed]
            any_install = True
            new.append(Segment(shlex.join(words), s.sep, words))
        else:
            new.append(s)
    saved = None
    if not any_install and measure.known(out.ins):
        saved = (measure.layer_bytes(out.ins) or 0) + sum(
            c.bytes or 0 for c in out.changes if c.rule == "apt-update-alone")
    ch = [Change("build-packages", out.ins.line,
                 "build-only packages left to the builder: " + " ".join(removed), saved)]
    if not any_install:
        return "", ch
    for i, s in enumerate(new):
        s.sep = "&&" if i else ""
    return run_text(out.ins, new), ch
