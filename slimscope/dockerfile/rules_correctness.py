"""The correctness rules a team leaving hadolint expects: each breaks a build, a rebuild or
the container's behaviour (signals, PID 1, the working directory) rather than its size."""

from __future__ import annotations

import fnmatch
import json
import re

from slimscope.dockerfile.findings import Finding, Rule
from slimscope.dockerfile.shellwords import commands, prog, runs

_RULES = [
    Rule("parse-error", "error", "A builder rejects this instruction; the rest is still linted",
         ("DL1000", "DL3061")),
    Rule("unknown-instruction", "error", "Not a Dockerfile instruction: the build stops here",
         ("DL1000",)),
    Rule("apt-get-yes", "warning", "apt-get install without -y waits for an answer no build gives",
         ("DL3014",)),
    Rule("cd-in-run", "warning", "cd in RUN lasts one step; WORKDIR says where every later step runs",
         ("DL3003",)),
    Rule("relative-workdir", "error", "A relative WORKDIR depends on the one before it, maybe the base's",
         ("DL3000",)),
    Rule("maintainer", "error", "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors",
         ("DL4000",)),
    Rule("shell-form-cmd", "warning",
         "Shell-form CMD/ENTRYPOINT runs under /bin/sh -c: the program is not PID 1 and gets no "
         "SIGTERM", ("DL3025",)),
    Rule("multiple-cmd", "warning", "Only the last CMD of a stage takes effect", ("DL4003",)),
    Rule("multiple-entrypoint", "error", "Only the last ENTRYPOINT of a stage takes effect", ("DL4004",)),
    Rule("sudo", "error", "sudo in a build: needs a TTY or a sudoers entry; use USER", ("DL3004",)),
    Rule("port-range", "error", "EXPOSE of a port outside 0-65535", ("DL3011",)),
    Rule("copy-from-unknown-stage", "warning",
         "COPY --from names no earlier stage: the builder pulls an image by that name", ("DL3022",)),
    Rule("copy-from-self", "error", "COPY --from names the stage it is in", ("DL3023",)),
    Rule("duplicate-stage-name", "error", "Two stages with one name: --from and FROM pick one of them",
         ("DL3024",)),
    Rule("add-instead-of-copy", "error",
         "ADD of a plain local file: COPY does the same without ADD's unpacking and URL rules",
         ("DL3020",)),
    Rule("untrusted-registry", "error", "Base image from a registry the config does not trust",
         ("DL3026",)),
]
RULES = {r.id: r for r in _RULES}

URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
# what ADD unpacks (the Dockerfile reference: tar, optionally gzip/bzip2/xz compressed)
ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tb2|tar\.xz|txz|tar\.lz|tar\.lzma|tlz|"
                     r"tar\.zst|tzst|tar\.Z|tZ|gz|bz2|xz|lz|lzma|zst|Z)$")


def check(df, cfg) -> list:
    out = [Finding("parse-error", line, line, message,
                   hadolint="DL3061" if message.endswith("before the first FROM") else "DL1000")
           for line, message in df.errors]
    for ins in df.instructions:
        if not ins.known:
            out.append(Finding("unknown-instruction", ins.line, ins.end_line,
                               f"{ins.cmd} is not a Dockerfile instruction"))
    seen: dict = {}
    for st in df.stages:
        out += _stage_names(st, seen)
        out += _base_registry(st, df, cfg)
        out += _copy_from(st, seen)
        out += _runs(st)
        out += _instructions(st)
    return out


def _stage_names(st, seen: dict) -> list:
    out = []
    if st.name:
        key = st.name.lower()
        if key in seen:
            ins = st.instructions[0]
            out.append(Finding("duplicate-stage-name", ins.line, ins.end_line,
                               f"stage name {st.name!r} is already used on line {seen[key]}"))
        else:
            seen[key] = st.instructions[0].line
    return out


def _registry(ref: str) -> str:
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _base_registry(st, df, cfg) -> list:
    trusted = cfg.trusted_registries
    ins = st.instructions[0]
    ref = st.base
    earlier = {s.name.lower() for s in df.stages[:st.index] if s.name}
    if not trusted or ref.lower() == "scratch" or ref.lower() in earlier or "$" in ref:
        return []
    reg = _registry(ref)
    if any(fnmatch.fnmatchcase(reg, t) for t in trusted):
        return []
    return [Finding("untrusted-registry", ins.line, ins.end_line,
                    f"FROM {ref}: registry {reg} is not in trusted-registries "
                    f"({', '.join(trusted)})")]


def _copy_from(st, seen: dict) -> list:
    out = []
    earlier = {k for k, line in seen.items() if line < st.instructions[0].line}
    for ins in st.instructions[1:]:
        src = ins.flags.get("from") if ins.cmd == "COPY" else None
        if not src or "$" in src:
            continue
        key = src.lower()
        if st.name and key == st.name.lower():
            out.append(Finding("copy-from-self", ins.line, ins.end_line,
                               f"COPY --from={src} names this very stage"))
        elif key in earlier or (key.isdigit() and int(key) < st.index):
            continue
        elif not re.search(r"[:@/.]", src) or key.isdigit():
            # a bare word is meant as a stage; with a tag, a digest or a path it is an image
            out.append(Finding("copy-from-unknown-stage", ins.line, ins.end_line,
                               f"COPY --from={src}: no earlier stage has that name; the builder will "
                               "look for an image called so"))
    return out


def _runs(st) -> list:
    out = []
    for ins in runs(st):
        cmds = commands(ins)
        if any(prog(a) == "cd" for _, a in cmds):
            out.append(Finding("cd-in-run", ins.line, ins.end_line,
                               "cd changes directory for this RUN only: use WORKDIR"))
        if any(raw and raw[0] == "sudo" for raw, _ in cmds):
            out.append(Finding("sudo", ins.line, ins.end_line,
                               "sudo in RUN: the build already runs as USER; switch with USER instead"))
        for _, a in cmds:
            if prog(a) == "apt-get" and "install" in a[1:] and not _assumes_yes(a):
                out.append(Finding("apt-get-yes", ins.line, ins.end_line,
                                   "apt-get install without -y: the build has no one to answer"))
                break
    return out


def _assumes_yes(argv: list) -> bool:
    for w in argv[1:]:
        if w in ("--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2", "--force-yes"):
            return True
        if re.match(r"^-[a-zA-Z]*y[a-zA-Z]*$", w) or re.match(r"^-[a-zA-Z]*qq[a-zA-Z]*$", w):
            return True
    return False


def _instructions(st) -> list:
    out = []
    last: dict = {}
    for ins in st.instructions[1:]:
        c = ins.cmd
        if c == "WORKDIR":
            path = ins.rest.strip().strip("'\"")
            if path and not path.startswith(("/", "$")) and not re.match(r"^[A-Za-z]:[\\/]", path):
                out.append(Finding("relative-workdir", ins.line, ins.end_line,
                                   f"WORKDIR {path} is relative: write the absolute path"))
        elif c == "MAINTAINER":
            out.append(Finding("maintainer", ins.line, ins.end_line,
                               "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=..."))
        elif c in ("CMD", "ENTRYPOINT"):
            if ins.json_form is None:
                out.append(Finding("shell-form-cmd", ins.line, ins.end_line,
                                   f"{c} in shell form runs under /bin/sh -c, which does not pass "
                                   f"SIGTERM on: write {c} [\"prog\", \"arg\"]"))
            if c in last:
                rule = "multiple-cmd" if c == "CMD" else "multiple-entrypoint"
                out.append(Finding(rule, ins.line, ins.end_line,
                                   f"{c} on line {last[c]} is overridden by this one"))
            last[c] = ins.line
        elif c == "EXPOSE":
            for w in ins.expanded.split():
                port = w.split("/", 1)[0]
                if "$" in port:
                    continue
                nums = port.split("-", 1)
                if all(n.isdigit() for n in nums) and any(int(n) > 65535 for n in nums):
                    out.append(Finding("port-range", ins.line, ins.end_line,
                                       f"EXPOSE {w}: ports run from 0 to 65535"))
                    break
        elif c == "ADD":
            out += _add(ins)
    return out


def _add(ins) -> list:
    if ins.heredocs:
        return []
    words = ins.expanded.split()
    if ins.expanded.startswith("["):
        try:
            words = [str(w) for w in json.loads(ins.expanded)]
        except ValueError:
            pass
    srcs = words[:-1]
    if not srcs or any(URL.match(s) or ARCHIVE.search(s) or s.startswith("git@") for s in srcs):
        return []
    return [Finding("add-instead-of-copy", ins.line, ins.end_line,
                    f"ADD {' '.join(srcs)}: plain files; COPY does the same and says so")]
