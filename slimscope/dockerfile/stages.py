"""What each instruction of the final stage is for, as the generator plans the split:
one `Planned` record per instruction, and the small facts read off the stage."""

from __future__ import annotations

import os
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Optional

from slimscope.catalog import is_source_file
from slimscope.dockerfile.classify import Segment, Step, classify_run
from slimscope.dockerfile.fixes import Out

BOTH = {"ENV", "ARG", "WORKDIR", "USER", "LABEL", "SHELL", "MAINTAINER"}
RUNTIME_ONLY = {"EXPOSE", "VOLUME", "HEALTHCHECK", "CMD", "ENTRYPOINT", "STOPSIGNAL", "ONBUILD"}
BUILD_KINDS = ("build", "fetch")


@dataclass
class Result:
    text: str
    mode: str                          # split | scratch | fixes | fallback
    changes: list = field(default_factory=list)
    notes: list = field(default_factory=list)    # things the user should know

    @property
    def measured_bytes(self) -> int:
        return sum(c.bytes or 0 for c in self.changes)


@dataclass
class Planned:
    """One instruction of the final stage with what it is for."""
    out: Out                  # the instruction after the in-place fixes
    kind: str                 # config | copy | add | from | source | install | build | fetch
    #                           | runtime | unknown
    step: Optional[Step]      # a RUN's classification (None for other instructions)
    segments: list[tuple[Segment, str]]   # a RUN's commands with their kinds
    workdir: str              # WORKDIR in effect

    @property
    def ins(self):
        return self.out.ins

    @property
    def builds(self) -> bool:
        return self.kind in BUILD_KINDS

    @property
    def run(self) -> Step:
        """The RUN's classification, for a step whose kind came from it (install, build,
        fetch, runtime, unknown): those are the only ones asked for it."""
        if self.step is None:
            raise ValueError(f"line {self.ins.line} ({self.kind}) is not a classified RUN")
        return self.step


def abs_path(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def _context_sources(ins, context_dir: Optional[str]) -> list:
    """Files (relative names) a context COPY/ADD sends; the patterns when unknown."""
    srcs = ins.words()[:-1]
    if not context_dir:
        return srcs
    import glob
    names = []
    for s in srcs:
        hits = glob.glob(os.path.join(context_dir, s)) or [os.path.join(context_dir, s)]
        for h in hits:
            if os.path.isdir(h):
                for root, _, files in os.walk(h):
                    names += [os.path.join(root, f) for f in files]
            else:
                names.append(h)
    return names


def _build_only_copy(ins, context_dir) -> bool:
    if ins.cmd != "COPY" or "from" in ins.flags:
        return False
    names = _context_sources(ins, context_dir)
    return bool(names) and all(is_source_file(n) for n in names)


def _classified(out: Out, workdir: str) -> Optional[tuple]:
    ins = out.ins
    if ins.cmd != "RUN" or not out.text:
        return None
    if out.segs is not None:
        script = " ".join((f"{sg.sep or '&&'} " if k else "") + sg.text for k, sg in enumerate(out.segs))
    elif ins.json_form is not None:
        script = shlex.join(ins.json_form)
    else:
        script = "\n".join(h.body for h in ins.heredocs) or ins.rest
    return classify_run(script, workdir)


def plan_steps(outs: list, context_dir: Optional[str]) -> list[Planned]:
    workdir = "/"
    steps: list[Planned] = []
    for out in outs:
        ins = out.ins
        if ins.cmd == "WORKDIR":
            workdir = abs_path(ins.expanded.strip(), workdir)
        cls = _classified(out, workdir)
        if cls is None:
            kind = "config" if ins.cmd not in ("COPY", "ADD", "FROM") else ins.cmd.lower()
            if kind == "copy" and _build_only_copy(ins, context_dir):
                kind = "source"
            steps.append(Planned(out, kind, None, [], workdir))
        else:
            step, seg_kinds = cls
            steps.append(Planned(out, step.kind, step, seg_kinds, workdir))
    return steps


def entry_paths(steps: list[Planned]) -> list:
    """Absolute paths the image runs (CMD/ENTRYPOINT program and path arguments)."""
    out = []
    for s in steps:
        if s.ins.cmd in ("CMD", "ENTRYPOINT"):
            for w in s.ins.words()[:3]:
                if w.startswith("/") or w.startswith("./") or "/" in w and not w.startswith("-"):
                    out.append(abs_path(w, s.workdir))
    return out


def short(ins) -> str:
    t = " ".join(ins.args.split())
    return (ins.cmd + " " + t)[:60]


def from_ref(from_ins) -> str:
    words = from_ins.rest.split()
    flags = "".join(f"--{k}={v} " for k, v in from_ins.flags.items())
    return flags + words[0]


def header(df) -> str:
    lines = []
    for k, v in df.directives.items():
        lines.append(f"# {k}={v}")
    for ins in df.instructions:
        if ins.cmd == "ARG" and ins.stage == 0 and df.instructions.index(ins) < \
                df.instructions.index(df.stages[0].instructions[0]):
            lines.append(ins.text)
    lines.append(f"# Generated by slimscope from {os.path.basename(df.path) or 'Dockerfile'}; "
                 "every change carries a '# slimscope:' comment.")
    return "\n".join(lines) + "\n"


class NoMeasure:
    """Measures nothing: stages other than the final one have no layers in the image."""
    paired = False

    def __getattr__(self, name):
        return lambda *a, **k: None

    def known(self, ins):
        return False
