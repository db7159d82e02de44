"""The shell commands of a Dockerfile's RUN steps as the correctness and pinning rules read
them: heredoc scripts, ONBUILD triggers and subshells included."""

from __future__ import annotations

import posixpath
import re

from slimscope.dockerfile.classify import split_commands
from slimscope.dockerfile.words import split as words_split

ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# a heredoc RUN whose whole argument is the marker: the body is the shell script
MARKER_ONLY = re.compile(r"^\s*<<-?\s*(['\"]?)[A-Za-z_][A-Za-z0-9_]*\1\s*$")


def runs(stage) -> list:
    """The RUN instructions of a stage, ONBUILD RUN triggers included (they run in every
    build FROM this image)."""
    out = []
    for ins in stage.instructions:
        if ins.cmd == "RUN":
            out.append(ins)
        elif ins.cmd == "ONBUILD" and ins.trigger is not None and ins.trigger.cmd == "RUN":
            out.append(ins.trigger)
    return out


def script(ins) -> str:
    """The shell text a RUN hands to /bin/sh: its heredoc body when the RUN is only the
    marker, else its arguments (a heredoc of `RUN python3 <<EOF` is not shell)."""
    if ins.json_form is not None:
        return ""
    if ins.heredocs and MARKER_ONLY.match(ins.rest):
        return "\n".join(h.body for h in ins.heredocs)
    return ins.rest


def commands(ins) -> list:
    """[(raw words, argv)] of every command the RUN's shell script runs: raw keeps `sudo`
    and env assignments; argv starts at the program, a subshell's `(` or `{` dropped."""
    out = []
    for seg in split_commands(script(ins)):
        for raw in _pipeline(seg.text):
            out.append(_command(raw))
    return out


def _pipeline(text: str) -> list:
    """The words of each element of a pipeline `a | b | c` (quotes respected)."""
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    for k, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in ("'", '"'):
            quote = c
        elif c == "|" and text[k - 1:k] != "|" and text[k + 1:k + 2] != "|":
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(c)
    parts.append("".join(buf))
    out = []
    for p in parts:
        try:
            out.append(words_split(p))
        except ValueError:
            out.append(p.split())
    return out


def _command(raw: list) -> tuple:
    if raw and raw[0] in ("(", "{"):
        raw = raw[1:]
    elif raw and raw[0][:1] in ("(", "{") and len(raw[0]) > 1:
        raw = [raw[0][1:]] + raw[1:]
    k = 0
    while k < len(raw) and ASSIGN.match(raw[k]):
        k += 1
    argv = raw[k:]
    while argv and argv[0] in ("sudo", "env", "exec", "nice", "time", "command"):
        argv = _past_wrapper(argv)
    return raw[k:], argv


def _past_wrapper(argv: list) -> list:
    """argv past one `sudo -u x`, `env A=1` or `exec`: the program it runs."""
    prog, rest = argv[0], argv[1:]
    while rest and (rest[0].startswith("-") or ASSIGN.match(rest[0])):
        takes_value = prog == "sudo" and rest[0] in ("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U")
        rest = rest[2:] if takes_value else rest[1:]
    return rest


def prog(argv: list) -> str:
    return posixpath.basename(argv[0]) if argv else ""
