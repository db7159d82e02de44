"""A Dockerfile reader that keeps line numbers: continuations, comments, the escape
directive, heredocs, ARG/ENV substitution and multi-stage input."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from slimscope.dockerfile.words import split as words_split
from slimscope.errors import BadInput
from slimscope.regular import read_regular

DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
# `<<<` is a bash here-string, not a heredoc
HEREDOC = re.compile(r"(?<!<)<<(?!<)(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
FLAG = re.compile(r"^--([a-z][a-z-]*)(?:=(\S*))?$")
VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
# instructions whose arguments the builder substitutes (Dockerfile reference, "Environment replacement")
SUBSTITUTED = {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
               "WORKDIR", "ONBUILD", "ARG"}
KNOWN = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
         "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
# a builder refuses these with no argument at all
NEEDS_ARGS = KNOWN - {"CMD", "ENTRYPOINT", "FROM"}   # FROM: its own message
MAX_DOCKERFILE = 64 << 20


@dataclass
class Heredoc:
    name: str
    body: str
    strip_tabs: bool = False


@dataclass
class Instruction:
    cmd: str                 # upper-case keyword
    args: str                # the argument text, continuations joined, flags included
    line: int                # first line (1-based)
    end_line: int            # last line, heredoc bodies included
    text: str                # the original source lines
    stage: int = 0
    flags: dict = field(default_factory=dict)   # --from=..., --chown=... (first occurrence)
    rest: str = ""           # args without the leading flags
    expanded: str = ""       # `rest` with ARG/ENV values substituted (where known)
    heredocs: list = field(default_factory=list)
    json_form: Optional[list] = None            # exec form of RUN/CMD/ENTRYPOINT/...
    trigger: Optional[Instruction] = None     # the instruction an ONBUILD holds

    @property
    def known(self) -> bool:
        return self.cmd in KNOWN

    def words(self) -> list:
        """The expanded arguments split on whitespace (JSON form honoured)."""
        if self.json_form is not None:
            return list(self.json_form)
        return self.expanded.split()


@dataclass
class Stage:
    index: int
    base: str                # the FROM image, substituted
    name: Optional[str]
    instructions: list       # every instruction of the stage, FROM first


@dataclass
class Dockerfile:
    instructions: list
    stages: list
    directives: dict
    escape: str = "\\"
    global_args: dict = field(default_factory=dict)
    path: str = ""
    # what a tolerant parse could not read: [(line, message)], in line order
    errors: list = field(default_factory=list)
    # every comment line outside the directives: [(line, text without the leading #)]
    comments: list = field(default_factory=list)

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage_names(self) -> set:
        return {s.name for s in self.stages if s.name} | {str(s.index) for s in self.stages}


# What one substitution may grow to: far past any real value, and short of the memory
# that eleven lines of `ENV A=$A$A` would otherwise take (2 ** 11 times per line).
MAX_EXPANSION = 1 << 20


class ExpansionTooLarge(BadInput):
    """A substitution grew past MAX_EXPANSION; the message names the variable."""


def substitute(text: str, env: dict) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt}; unknown names stay as written."""
    grown = [len(text)]

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", "-"):
            out = val if val not in (None, "") or (op == "-" and val is not None) else word
        elif op in (":+", "+"):
            out = word if val not in (None, "") or (op == "+" and val is not None) else ""
        else:
            out = val if val is not None else m.group(0)
        grown[0] += len(out)
        if grown[0] > MAX_EXPANSION:
            raise ExpansionTooLarge(f"${name} expands past {MAX_EXPANSION} bytes")
        return out
    return VAR.sub(repl, text)


def parse_assignments(text: str) -> list:
    """`K=V K2="a b"` (or the legacy `K V`) -> [(key, value)]; values unquoted."""
    try:
        words = words_split(text)
    except ValueError:
        words = text.split()
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))] if len(words) > 1 else [(words[0], None)]
    out = []
    for w in words:
        k, sep, v = w.partition("=")
        out.append((k, v if sep else None))
    return out


def _split_flags(args: str) -> tuple:
    flags: dict[str, str] = {}
    rest = args.lstrip()
    while rest.startswith("--"):
        head, _, tail = rest.partition(" ")
        m = FLAG.match(head)
        if not m:
            break
        flags.setdefault(m.group(1), m.group(2) if m.group(2) is not None else "")
        rest = tail.lstrip()
    return flags, rest


class _Problems:
    """Where parse problems go: raised at once (strict: the generator must not guess), or
    kept with their line so that lint can report them and read on."""

    def __init__(self, path: str, tolerant: bool):
        self.path, self.tolerant = path, tolerant
        self.found: list[tuple[int, str]] = []
        self.at = 0   # the line being resolved, for an error raised beneath it

    def add(self, line: int, message: str) -> None:
        if not self.tolerant:
            raise BadInput(f"{self.path}:{line}: {message}")
        self.found.append((line, message))


def parse(text: str, path: str = "Dockerfile", tolerant: bool = False) -> Dockerfile:
    """The Dockerfile in `text`. Strict (the default) raises BadInput at the first problem;
    tolerant keeps each problem in `errors` with its line and skips only that instruction.
    A file with no usable FROM is a BadInput either way: there is nothing to read."""
    problems = _Problems(path, tolerant)
    lines = text.splitlines()
    directives: dict = {}
    escape = "\\"
    # parser directives: only at the very top, before any other line
    first = 0
    for raw in lines:
        m = DIRECTIVE.match(raw.strip())
        if not m or not raw.strip():
            break
        directives[m.group(1).lower()] = m.group(2)
        if m.group(1).lower() == "escape":
            escape_line = first + 1
        first += 1
    if directives.get("escape") in ("\\", "`"):
        escape = directives["escape"]
    elif "escape" in directives:
        problems.add(escape_line, f"escape directive must be \\ or `, not {directives['escape']!r}")

    instructions: list = []
    comments: list = []
    i, n = first, len(lines)
    while i < n:
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            if stripped:
                comments.append((i + 1, stripped[1:].strip()))
            i += 1
            continue
        start = i
        parts = []
        src = []
        while True:
            raw = lines[i]
            src.append(raw)
            s = raw.rstrip()
            cont = s.endswith(escape)
            if cont:
                parts.append(s[:-1])
            else:
                parts.append(s)
            i += 1
            if not cont:
                break
            # comment and empty lines inside a continuation are dropped
            while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                src.append(lines[i])
                i += 1
            if i >= n:
                break
        joined = " ".join(p.strip() for p in parts if p.strip())
        m = re.match(r"^(\S+)\s*(.*)$", joined, re.S)
        if not m:
            continue
        cmd, args = m.group(1).upper(), m.group(2)
        ins = Instruction(cmd=cmd, args=args, line=start + 1, end_line=i, text="")
        inner = args.split(None, 1)[0].upper() if cmd == "ONBUILD" and args.strip() else cmd
        if inner in ("RUN", "COPY", "ADD"):
            after = i
            for hm in HEREDOC.finditer(args):
                body = []
                while i < n and (lines[i].lstrip("\t") if hm.group(1) else lines[i]) != hm.group(3):
                    body.append(lines[i])
                    i += 1
                if i >= n:
                    problems.add(start + 1, f"heredoc <<{hm.group(3)} is never closed")
                    # read on after the instruction itself: its body is the rest of the file
                    i, ins.heredocs = after, []
                    break
                src.extend(body)
                src.append(lines[i])
                i += 1
                text_body = "\n".join(l.lstrip("\t") if hm.group(1) else l for l in body)
                ins.heredocs.append(Heredoc(hm.group(3), text_body + "\n", bool(hm.group(1))))
            ins.end_line = i
        ins.text = "\n".join(src)
        instructions.append(ins)

    try:
        df = _resolve(instructions, directives, escape, path, problems)
    except ExpansionTooLarge as e:
        raise BadInput(f"{path}:{problems.at}: {e}") from None
    df.comments = comments
    return df


def _finish(ins: Instruction) -> None:
    """Flags, the rest, and the exec form of one instruction (or of an ONBUILD trigger)."""
    ins.flags, ins.rest = _split_flags(ins.args)
    if ins.cmd in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK") and ins.rest.startswith("["):
        try:
            val = json.loads(ins.rest)
            if isinstance(val, list) and all(isinstance(v, str) for v in val):
                ins.json_form = val
        except ValueError:
            pass


def _trigger(ins: Instruction, problems: _Problems) -> Optional[Instruction]:
    m = re.match(r"^(\S+)\s*(.*)$", ins.rest, re.S)
    if not m:
        return None
    cmd = m.group(1).upper()
    if cmd in ("ONBUILD", "FROM", "MAINTAINER"):
        problems.add(ins.line, f"ONBUILD {cmd} is not allowed")
        return None
    t = Instruction(cmd=cmd, args=m.group(2), line=ins.line, end_line=ins.end_line, text=ins.text,
                    stage=ins.stage, heredocs=ins.heredocs)
    _finish(t)
    return t


def _resolve(instructions: list, directives: dict, escape: str, path: str,
             problems: Optional[_Problems] = None) -> Dockerfile:
    problems = problems or _Problems(path, False)
    global_args: dict = {}
    stages: list = []
    env: dict = {}
    stage_args: dict = {}
    kept: list = []
    for ins in instructions:
        problems.at = ins.line
        _finish(ins)
        if problems.tolerant:
            # an instruction no builder accepts is skipped (lint reports it), the rest read on
            if not ins.known:
                kept.append(ins)
                continue
            if ins.cmd in NEEDS_ARGS and not ins.rest.strip() and not ins.heredocs:
                problems.add(ins.line, f"{ins.cmd} needs arguments")
                continue
        if ins.cmd == "FROM":
            words = substitute(ins.rest, global_args).split()
            if not words:
                problems.add(ins.line, "FROM needs an image")
                continue
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(len(stages), words[0], name, [ins]))
            env = {}
            stage_args = {}
            ins.expanded = " ".join(words)
            ins.stage = len(stages) - 1
            kept.append(ins)
            continue
        if not stages:
            if ins.cmd != "ARG":
                problems.add(ins.line, f"{ins.cmd} before the first FROM")
                continue
            for k, v in parse_assignments(ins.rest):
                global_args[k] = substitute(v, global_args) if v is not None else None
            ins.expanded = ins.rest
            kept.append(ins)
            continue
        ins.stage = len(stages) - 1
        if ins.cmd == "ONBUILD":
            ins.trigger = _trigger(ins, problems)
        kept.append(ins)
        stages[-1].instructions.append(ins)
        scope = {**{k: v for k, v in stage_args.items() if v is not None}, **env}
        ins.expanded = substitute(ins.rest, scope)
        if ins.cmd == "ARG":
            for k, v in parse_assignments(ins.rest):
                if v is None and k in global_args:
                    v = global_args[k]
                stage_args[k] = substitute(v, scope) if v is not None else None
        elif ins.cmd == "ENV":
            for k, v in parse_assignments(ins.rest):
                env[k] = substitute(v or "", scope)
    if not stages:
        if problems.found:
            line, message = problems.found[0]
            raise BadInput(f"{path}:{line}: {message}")
        raise BadInput(f"{path}: no FROM instruction; is this a Dockerfile?")
    return Dockerfile(kept, stages, directives, escape, global_args, path,
                      errors=sorted(problems.found))


def read(path: str, tolerant: bool = False) -> Dockerfile:
    if not os.path.lexists(path):
        raise BadInput(f"{path}: no such file")
    if os.path.isdir(path):
        raise BadInput(f"{path} is a directory; name the Dockerfile")
    # only a regular file: a FIFO would hang the read, a device never end
    data = read_regular(path, path, MAX_DOCKERFILE)
    try:
        # utf-8-sig: editors on Windows start files with a byte-order mark
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    return parse(text, path, tolerant)
