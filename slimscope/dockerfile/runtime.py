"""The two stages of a split: the builder (the final stage, fixed in place) and the
runtime (what runs: config, runtime packages, setup commands, and COPY --from=builder
of what the build produced)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from slimscope.catalog import GROUPS
from slimscope.dockerfile.classify import Segment, Step, package_install
from slimscope.dockerfile.fixes import Change, Out, perm_target, removes_copy, rm_paths, run_text
from slimscope.dockerfile.stages import BOTH, RUNTIME_ONLY, Planned, abs_path, from_ref, short

# Setup commands of a build step that the runtime needs too (users, directories, links).
_KEPT_SETUP = ("useradd", "adduser", "groupadd", "addgroup", "mkdir", "ln", "usermod")
# Where package managers and builds keep their caches: the catalogue's groups that a
# Dockerfile removes with `rm` (apt lists and archives, pip/npm/apk/dnf/conda caches, /tmp).
_CACHE_DIRS = tuple(d for g in GROUPS.values() if g.rm for d in g.dirs)


def builder_stage(steps: list[Planned], builder: str) -> list[str]:
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
    body: list[str] = field(default_factory=list)
    runs: list[Out] = field(default_factory=list)    # RUNs the runtime keeps
    changes: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def runtime_stage(steps: list[Planned], copies: list, builder: str, measure) -> Runtime:
    rt = Runtime()
    last_build = max(k for k, s in enumerate(steps) if s.builds)
    owners: dict = {}    # copied path -> the owner a later `RUN chown -R` gave it
    copied: list = []    # context COPY/ADD the runtime stage keeps, with their workdirs
    at = None            # where the COPY --from lines are in the body
    for k, s in enumerate(steps[1:], start=1):
        if not s.out.render():
            continue
        change = _settled(s, copies, owners, copied, bool(rt.runs), measure)
        if change is not None:
            rt.body.append(change.render())
            rt.changes.append(change)
        else:
            if s.kind in ("copy", "add"):
                copied.append((s.ins, s.workdir))
            _runtime_step(rt, s, copies, measure)
        if k == last_build:
            rt.body.append("# slimscope: copy only what runs from the builder")
            at = len(rt.body)
            rt.body += [""] * len(copies)
    if at is not None:   # written last: a chown after the build step gives the copies their owner
        rt.body[at:at + len(copies)] = [f"COPY --from={builder} " + (
            f"--chown={owners[p]} " if p in owners else "") + f"{p} {p}" for p in copies]
    return rt


def _settled(s: Planned, copies: list, owners: dict, copied: list, ran: bool, measure):
    """The Change that says why the runtime stage need not repeat this RUN, or None.

    A mode change of what the builder made runs in the builder (it is a step there
    too) and COPY --from keeps the mode; a `chown -R` of a copied path becomes that
    COPY's --chown (COPY sets the owner itself). A cleanup of package or build caches
    has nothing to clean while the runtime stage has run no RUN of its own (`ran`): it
    holds the base, whose bytes a later rm cannot take back, and what it copied.
    """
    if s.ins.cmd != "RUN" or s.kind not in ("runtime", "install") or not s.segments \
            or (s.step is not None and (s.step.runtime_packages or s.step.build_packages)):
        return None
    segs = [seg for seg, _ in s.segments]
    change = _mode_change(s, segs, copies, owners, measure)
    if change is None and not ran:
        change = _idle_cleanup(s, segs, copies, copied)
    return change


def _target(seg: Segment, workdir: str):
    """(chown|chmod, value, path) of a one-path chown/chmod; any mode for chmod, since
    the builder runs it as written."""
    w = [x for x in seg.argv if x not in ("-R", "--recursive")]
    if seg.prog == "chmod" and not seg.pipe and len(w) == 3 and "$" not in w[2]:
        return "chmod", w[1], abs_path(w[2], workdir)
    return perm_target(seg, workdir)


def _mode_change(s: Planned, segs: list, copies: list, owners: dict, measure):
    targets = [_target(seg, s.workdir) for seg in segs]
    if not all(targets):
        return None
    chown = {}
    for (what, value, path), seg in zip(targets, segs):
        if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in copies):
            return None
        if what == "chown":
            # COPY --chown sets the owner of everything it copies: only `chown -R` of
            # the copied path itself says the same
            if path not in copies or not any(w in ("-R", "--recursive") for w in seg.argv):
                return None
            chown[path] = value
    owners.update(chown)
    what = "chown folded into COPY --from --chown" if chown else \
        "chmod runs in the builder only; COPY --from keeps the mode"
    if chown and len(chown) < len(targets):
        what += "; chmod runs in the builder only"
    return Change("chown-layer", s.ins.line, what, measure.hides_bytes(s.ins))


def _cleans(seg: Segment) -> bool:
    w = seg.argv
    return (seg.prog in ("apt-get", "apt", "dnf", "yum", "microdnf", "conda") and w[1:2] == ["clean"]) \
        or (seg.prog in ("npm", "yarn") and w[1:3] == ["cache", "clean"])


def _idle_cleanup(s: Planned, segs: list, copies: list, copied: list):
    paths = []
    for seg in segs:
        if _cleans(seg):
            continue
        found = rm_paths(seg, s.workdir)
        if not found or len(found) != len([w for w in seg.argv[1:] if not w.startswith("-")]):
            return None    # not an rm, or one that names a variable
        paths += found
    for p in paths:
        cut = p.rstrip("/*") or "/"
        if not (p.startswith(_CACHE_DIRS) or cut + "/" in _CACHE_DIRS):
            return None
        if any(c == cut or c.startswith(cut.rstrip("/") + "/") for c in copies) \
                or any(removes_copy(p, ins, wd) for ins, wd in copied):
            return None    # it removes something the runtime stage copied in
    # no bytes: what it hid in the original is the saving of the fix where the cache is made
    return Change("runtime-cleanup", s.ins.line, "cleanup left to the builder: the runtime stage "
                  "fills no cache for it to remove")


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
        text, ch = runtime_install(out, s.segments, s.run, measure)
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
    ins, step = s.ins, s.run
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
