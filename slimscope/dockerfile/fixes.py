"""In-place fixes of one stage: package caches cleaned where they are made, a later `rm`
moved into the RUN that made the files, chown/chmod layers folded into COPY."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Optional

from slimscope.catalog import GROUPS
from slimscope.dockerfile.classify import (
    Segment,
    is_apt_update,
    join_commands,
    make_segment,
    package_install,
    pip_install,
    split_commands,
)
from slimscope.dockerfile.parser import Instruction
from slimscope.dockerfile.words import split as words_split

# Where each cache lives, to measure what a fix saves: the catalogue's directories.
APT = GROUPS["apt-lists"].dirs + GROUPS["apt-archives"].dirs + GROUPS["apt-pkgcache"].dirs


@dataclass
class Change:
    rule: str              # the lint rule id this change fixes
    line: int              # line of the instruction it changes (original file)
    comment: str           # one short sentence
    bytes: Optional[int] = None    # measured saving, None when unknown

    def render(self) -> str:
        from slimscope.core.fmt import size
        saving = f" (saves {size(self.bytes)}, measured)" if self.bytes else ""
        return f"# slimscope: {self.comment}{saving}"


@dataclass
class Out:
    """One instruction of the generated file."""
    ins: Instruction                # the original instruction
    text: str                       # Dockerfile text ("" drops it)
    changes: list = field(default_factory=list)
    segs: Optional[list] = None     # the shell commands of a RUN
    dirty: bool = False             # segs changed: the RUN is written anew
    flags: Optional[dict] = None    # COPY/ADD flags, when changed

    def render(self) -> str:
        lines = [c.render() for c in self.changes]
        if self.text:
            lines.append(self.text)
        return "\n".join(lines)


def run_script(ins) -> Optional[str]:
    """The shell body of a shell-form RUN without heredocs, else None."""
    if ins.cmd != "RUN" or ins.json_form is not None or ins.heredocs:
        return None
    return ins.rest


def run_text(ins, segs: list) -> str:
    flags = "".join(f"--{k}={v} " if v else f"--{k} " for k, v in ins.flags.items())
    return f"RUN {flags}{join_commands(segs)}"


def _add_flag(seg: Segment, after: str, flag: str) -> Segment:
    """Insert `flag` right after the first word equal to `after`."""
    words = words_split(seg.text) if not seg.pipe else None
    if words is None:
        return seg
    k = words.index(after)
    words.insert(k + 1, flag)
    return Segment(shlex.join(words), seg.sep, words)


def _has_rm(segs, prefix: str) -> bool:
    return any(s.prog == "rm" and any(w.startswith(prefix) for w in s.argv[1:]) for s in segs)


def _has(segs, prog: str, word: str) -> bool:
    return any(s.prog == prog and word in s.argv for s in segs)


def fix_segments(segs: list, line: int, measure, ins) -> tuple:
    """Cache and recommends fixes inside one RUN -> (segments, changes)."""
    changes: list = []
    out = []
    apt = conda = False
    npm = dnf = ""       # the package manager whose cache the RUN fills
    for s in segs:
        pi = package_install(s)
        if pi and pi[0] in ("apt-get", "apt"):
            apt = True
            if "--no-install-recommends" not in s.argv:
                s = _add_flag(s, "install", "--no-install-recommends")
                changes.append(Change("apt-recommends", line,
                                      "--no-install-recommends: only the packages asked for"))
                if not any(x in ("-y", "--yes", "-qy", "-yq", "--assume-yes") for x in s.argv):
                    s = _add_flag(s, "install", "-y")
        elif pi and pi[0] == "apk" and "--no-cache" not in s.argv:
            s = _add_flag(s, "add", "--no-cache")
            changes.append(Change("apk-cache", line, "apk add --no-cache keeps the index out of the layer",
                                  measure.bytes_under(ins, GROUPS["apk-cache"].dirs)))
        elif pi and pi[0] in ("dnf", "yum", "microdnf"):
            dnf = pi[0]
        elif pip_install(s) and "--no-cache-dir" not in s.argv and "install" in s.argv:
            s = _add_flag(s, "install", "--no-cache-dir")
            changes.append(Change("pip-cache", line, "pip --no-cache-dir: no download cache in the layer",
                                  measure.bytes_under(ins, GROUPS["pip-cache"].dirs)))
        elif s.prog in ("npm", "yarn") and s.argv[1:2] in (["ci"], ["install"]):
            npm = s.prog
        elif s.prog == "conda" and s.argv[1:2] in (["install"], ["create"], ["update"]):
            conda = True
        out.append(s)
    if apt and not _has_rm(out, "/var/lib/apt/lists"):
        saved = None
        if measure.known(ins):
            saved = measure.bytes_under(ins, APT)
        out.append(make_segment("apt-get clean"))
        out.append(make_segment("rm -rf " + " ".join(GROUPS["apt-lists"].rm)))
        changes.append(Change("apt-lists", line,
                              "apt lists and .deb cache removed in the RUN that made them", saved))
    if npm and not _has(out, npm, "clean"):
        out.append(make_segment(f"{npm} cache clean --force" if npm == "npm" else "yarn cache clean"))
        changes.append(Change("npm-cache", line, f"{npm} cache cleaned where it is filled",
                              measure.bytes_under(ins, GROUPS["npm-cache"].dirs)))
    if dnf and not _has(out, dnf, "clean"):
        out.append(make_segment(f"{dnf} clean all"))
        changes.append(Change("dnf-cache", line, f"{dnf} clean all where the cache is filled",
                              measure.bytes_under(ins, GROUPS["dnf-cache"].dirs)))
    if conda and not any(s.prog == "conda" and "clean" in s.argv for s in out):
        out.append(make_segment("conda clean -afy"))
        changes.append(Change("conda-clean", line, "conda clean -afy drops package tarballs and caches",
                              measure.bytes_under(ins, GROUPS["conda-clean"].dirs)))
    return out, changes


def _copy_dests(ins, workdir: str) -> list:
    """Absolute paths a COPY/ADD creates at the top level."""
    words = ins.words()
    if len(words) < 2:
        return []
    srcs, dest = words[:-1], words[-1]
    dest = posixpath.normpath(posixpath.join(workdir or "/", dest))
    if ins.words()[-1].endswith("/") or len(srcs) > 1:
        return [dest] + [posixpath.join(dest, posixpath.basename(s.rstrip("/"))) for s in srcs]
    return [dest]


def removes_copy(path: str, copy_ins, workdir: str) -> bool:
    """An `rm` of `path` removes what COPY/ADD `copy_ins` put in the image: those bytes
    stay in the COPY's layer whatever RUN the rm moves to."""
    cut = path.rstrip("/*") or "/"
    return any(d == path or d == cut or d.startswith(cut.rstrip("/") + "/")
               for d in _copy_dests(copy_ins, workdir))


def rm_paths(seg: Segment, workdir: str) -> list:
    """The absolute paths an `rm` command names (words with variables left out)."""
    if seg.prog != "rm" or seg.pipe:
        return []
    return [posixpath.normpath(posixpath.join(workdir or "/", w))
            for w in seg.argv[1:] if not w.startswith("-") and "$" not in w]


def perm_target(seg: Segment, workdir: str):
    """(chown|chmod, value, path) for `chown [-R] U:G PATH` / `chmod [-R] 0755 PATH`."""
    w = [x for x in seg.argv if x not in ("-R", "--recursive")]
    if seg.pipe or seg.prog not in ("chown", "chmod") or len(w) != 3:
        return None
    value = w[1]
    if seg.prog == "chmod" and not re.fullmatch(r"0?[0-7]{3,4}", value):
        return None
    return seg.prog, value, posixpath.normpath(posixpath.join(workdir or "/", w[2]))


def fix_stage(instructions: list, measure, legacy_builder: bool = False) -> list:
    """Every instruction of one stage as Out, with the in-place fixes applied."""
    outs: list = []
    workdirs: list = []
    workdir = "/"
    for ins in instructions:
        if ins.cmd == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, ins.expanded.strip() or "/"))
        workdirs.append(workdir)
        out = Out(ins, ins.text)
        script = run_script(ins)
        if script is not None:
            out.segs = split_commands(script)
        outs.append(out)

    # `RUN apt-get update` on its own: join it to the next RUN that installs
    for k, out in enumerate(outs):
        if out.segs and all(is_apt_update(s) for s in out.segs):
            nxt = next((o for o in outs[k + 1:] if o.segs is not None), None)
            if nxt and any(package_install(s) for s in nxt.segs) \
                    and not any(is_apt_update(s) for s in nxt.segs):
                nxt.segs = [make_segment(out.segs[0].text, "")] + \
                    [Segment(s.text, s.sep or "&&", s.words, s.pipe) for s in nxt.segs]
                nxt.segs[1].sep = "&&"
                nxt.dirty = True
                nxt.changes.append(Change("apt-update-alone", nxt.ins.line,
                                          f"apt-get update (line {out.ins.line}) joined with its install",
                                          measure.layer_bytes(out.ins)))
                out.text, out.segs = "", None

    for out in outs:
        if out.segs:
            new, changes = fix_segments(out.segs, out.ins.line, measure, out.ins)
            if changes:
                out.segs, out.dirty = new, True
            out.changes.extend(changes)

    _move_later_rm(outs, workdirs, measure)
    _fold_permissions(outs, workdirs, measure, legacy_builder)

    for out in outs:
        if out.segs is not None and out.text and out.dirty:
            out.text = run_text(out.ins, out.segs)
    return outs


def _mentions(out: Out, path: str) -> bool:
    ins = out.ins
    if not out.text:
        return False
    if ins.cmd in ("COPY", "ADD"):
        return False
    return path.rstrip("/*") in ins.expanded


def _move_later_rm(outs: list, workdirs: list, measure) -> None:
    for k, out in enumerate(outs):
        if not out.segs or not all(s.prog == "rm" and not s.pipe for s in out.segs):
            continue
        paths = [posixpath.normpath(posixpath.join(workdirs[k], w))
                 for s in out.segs for w in s.argv[1:] if not w.startswith("-")]
        if not paths:
            continue
        target = None
        for p in paths:
            if any(outs[j].text and outs[j].ins.cmd in ("COPY", "ADD")
                   and removes_copy(p, outs[j].ins, workdirs[j]) for j in range(k)):
                target = None   # lint's later-rm names the COPY; no RUN can take it back
                break
            hits = [j for j in range(k) if outs[j].segs is not None and _mentions(outs[j], p)]
            copied = [j for j in range(k) if outs[j].ins.cmd in ("COPY", "ADD") and
                      any(d == p or d.startswith(p.rstrip("/*") + "/") or p.startswith(d + "/")
                          for d in _copy_dests(outs[j].ins, workdirs[j]))]
            if not hits or (copied and max(copied) > max(hits)):
                target = None
                break
            j = max(hits)
            if target is None or j == target:
                target = j
            else:
                target = None
                break
        if target is None or workdirs[target] != workdirs[k]:
            continue
        dest = outs[target]
        dest.segs = list(dest.segs) + [Segment(s.text, "&&", s.words) for s in out.segs]
        dest.dirty = True
        dest.changes.append(Change("later-rm", dest.ins.line,
                                   f"the rm of line {out.ins.line} moved into the RUN that made the files",
                                   measure.hides_bytes(out.ins)))
        out.text, out.segs = "", None


def _fold_permissions(outs: list, workdirs: list, measure, legacy_builder: bool) -> None:
    for k, out in enumerate(outs):
        if not out.segs:
            continue
        targets = [perm_target(s, workdirs[k]) for s in out.segs]
        if not all(targets):
            continue
        plan: dict[int, dict[str, str]] = {}   # COPY's position -> flags; empty: no fold
        for what, value, path in targets:
            if what == "chmod" and legacy_builder:
                plan = {}
                break
            src = None
            for j in range(k - 1, -1, -1):
                o = outs[j]
                if o.ins.cmd in ("COPY", "ADD") and o.text and path in _copy_dests(o.ins, workdirs[j]):
                    src = j
                    break
                if o.text and o.ins.cmd == "RUN" and path in (o.ins.expanded or ""):
                    break   # something else touched the path in between
            if src is None:
                plan = {}
                break
            plan.setdefault(src, {})[what] = value
        if not plan:
            continue
        for j, flags in plan.items():
            o = outs[j]
            ins = o.ins
            new_flags = dict(o.flags if o.flags is not None else ins.flags)
            new_flags.update(flags)
            o.flags = new_flags
            flag_text = " ".join(f"--{a}={b}" if b else f"--{a}" for a, b in new_flags.items())
            o.text = f"{ins.cmd} {flag_text} {ins.rest}"
            what = " and ".join(f"--{w}" for w in flags)
            note = "; --chmod needs BuildKit" if "chmod" in flags else ""
            o.changes.append(Change("chown-layer", ins.line,
                                    f"RUN of line {out.ins.line} folded into COPY {what}{note}",
                                    measure.hides_bytes(out.ins)))
        out.text, out.segs = "", None
