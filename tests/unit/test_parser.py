"""Dockerfile reading: continuations, escapes, ARG/ENV substitution, stages, heredocs."""

from __future__ import annotations

import pytest

from slimscope.dockerfile import parser
from slimscope.errors import BadInput


def test_continuations_comments_and_line_numbers():
    df = parser.parse(
        "# a comment\n"
        "FROM debian:12 AS build\n"
        "\n"
        "RUN apt-get update && \\\n"
        "    # inside the continuation\n"
        "\n"
        "    apt-get install -y gcc\n"
        "CMD [\"/bin/app\", \"--x\"]\n")
    cmds = [(i.cmd, i.line, i.end_line) for i in df.instructions]
    assert cmds == [("FROM", 2, 2), ("RUN", 4, 7), ("CMD", 8, 8)]
    run = df.instructions[1]
    assert run.rest == "apt-get update && apt-get install -y gcc"
    assert df.instructions[2].json_form == ["/bin/app", "--x"]
    assert df.final.name == "build"

def test_escape_directive_backtick():
    df = parser.parse("# escape=`\nFROM windows\nRUN dir `\n  c:\\\\x\n")
    assert df.escape == "`"
    assert df.instructions[1].rest == "dir c:\\\\x"
    assert (df.instructions[1].line, df.instructions[1].end_line) == (3, 4)

def test_arg_env_substitution_and_stages():
    df = parser.parse(
        "ARG BASE=debian\nARG TAG\n"
        "FROM ${BASE}:${TAG:-bookworm} AS one\n"
        "ARG BASE\nENV APP=/srv/app\nENV DIR=$APP/bin\n"
        "WORKDIR ${DIR}\nCOPY --chown=1:1 x ${APP}/\n"
        "FROM one\nRUN echo $APP ${UNKNOWN}\n")
    assert [s.base for s in df.stages] == ["debian:bookworm", "one"]
    ins = df.instructions
    assert ins[6].expanded == "/srv/app/bin"
    assert ins[7].flags == {"chown": "1:1"} and ins[7].expanded == "x /srv/app/"
    assert ins[3].expanded == "BASE"
    # a new stage starts with an empty environment; unknown names stay as written
    assert ins[-1].expanded == "echo $APP ${UNKNOWN}"
    assert ins[-1].stage == 1

def test_heredoc_keeps_lines():
    df = parser.parse("FROM x\nRUN <<EOT\nset -e\necho hi > /h\nEOT\nCMD [\"sh\"]\n")
    run = df.instructions[1]
    assert run.heredocs[0].body == "set -e\necho hi > /h\n"
    assert (run.line, run.end_line) == (2, 5)
    assert df.instructions[2].line == 6

def test_bad_dockerfiles():
    with pytest.raises(BadInput):
        parser.parse("RUN echo no from\n")
    with pytest.raises(BadInput):
        parser.parse("FROM x\nRUN <<EOT\necho never closed\n")
    with pytest.raises(BadInput):
        parser.parse("# just a comment\n")
