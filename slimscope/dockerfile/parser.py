"""A Dockerfile reader that keeps line numbers: continuations, comments, the escape
directive, heredocs, ARG/ENV substitution and multi-stage input."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

from slimscope.errors import BadInput

DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
FLAG = re.compile(r"^--([a-z][a-z-]*)(?:=(\S*))?$")
VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
# instructions whose arguments the builder substitutes (Dockerfile reference, "Environment replacement")
SUBSTITUTED = {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
               "WORKDIR", "ONBUILD", "ARG"}


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

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage_names(self) -> set:
        return {s.name for s in self.stages if s.name} | {str(s.index) for s in self.stages}


def substitute(text: str, env: dict) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt}; unknown names stay as written."""
    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", "-"):
            return val if val not in (None, "") or (op == "-" and val is not None) else word
        if op in (":+", "+"):
            return word if val not in (None, "") or (op == "+" and val is not None) else ""
        return val if val is not None else m.group(0)
    return VAR.sub(repl, text)


def parse_assignments(text: str) -> list:
    """`K=V K2="a b"` (or the legacy `K V`) -> [(key, value)]; values unquoted."""
    import shlex
    try:
        words = shlex.split(text, posix=True)
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
    flags, rest = {}, args.lstrip()
    while rest.startswith("--"):
        head, _, tail = rest.partition(" ")
        m = FLAG.match(head)
        if not m:
            break
        flags.setdefault(m.group(1), m.group(2) if m.group(2) is not None else "")
        rest = tail.lstrip()
    return flags, rest


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    lines = text.splitlines()
    directives: dict = {}
    escape = "\\"
    # parser directives: only at the very top, before any other line
    for raw in lines:
        m = DIRECTIVE.match(raw.strip())
        if not m or not raw.strip():
            break
        directives[m.group(1).lower()] = m.group(2)
    if directives.get("escape") in ("\\", "`"):
        escape = directives["escape"]
    elif "escape" in directives:
        raise BadInput(f"{path}: escape directive must be \\ or `, not {directives['escape']!r}")

    instructions: list = []
    i, n = 0, len(lines)
    while i < n:
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
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
        if cmd in ("RUN", "COPY", "ADD"):
            for hm in HEREDOC.finditer(args):
                if cmd == "RUN" or hm.start() > 0:
                    body = []
                    while i < n and (lines[i].lstrip("\t") if hm.group(1) else lines[i]) != hm.group(3):
                        body.append(lines[i])
                        src.append(lines[i])
                        i += 1
                    if i >= n:
                        raise BadInput(f"{path}:{start + 1}: heredoc <<{hm.group(3)} is never closed")
                    src.append(lines[i])
                    i += 1
                    text_body = "\n".join(l.lstrip("\t") if hm.group(1) else l for l in body)
                    ins.heredocs.append(Heredoc(hm.group(3), text_body + "\n", bool(hm.group(1))))
            ins.end_line = i
        ins.text = "\n".join(src)
        instructions.append(ins)

    return _resolve(instructions, directives, escape, path)


def _resolve(instructions: list, directives: dict, escape: str, path: str) -> Dockerfile:
    global_args: dict = {}
    stages: list = []
    env: dict = {}
    stage_args: dict = {}
    for ins in instructions:
        ins.flags, ins.rest = _split_flags(ins.args)
        if ins.cmd in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK") and ins.rest.startswith("["):
            try:
                val = json.loads(ins.rest)
                if isinstance(val, list) and all(isinstance(v, str) for v in val):
                    ins.json_form = val
            except ValueError:
                pass
        if ins.cmd == "FROM":
            words = substitute(ins.rest, global_args).split()
            if not words:
                raise BadInput(f"{path}:{ins.line}: FROM needs an image")
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(len(stages), words[0], name, [ins]))
            env = {}
            stage_args = {}
            ins.expanded = " ".join(words)
            ins.stage = len(stages) - 1
            continue
        if not stages:
            if ins.cmd != "ARG":
                raise BadInput(f"{path}:{ins.line}: {ins.cmd} before the first FROM")
            for k, v in parse_assignments(ins.rest):
                global_args[k] = substitute(v, global_args) if v is not None else None
            ins.expanded = ins.rest
            continue
        ins.stage = len(stages) - 1
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
        raise BadInput(f"{path}: no FROM instruction; is this a Dockerfile?")
    return Dockerfile(instructions, stages, directives, escape, global_args, path)


def read(path: str) -> Dockerfile:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a directory; name the Dockerfile") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    return parse(text, path)
