"""Dockerfile reading: continuations, escapes, ARG/ENV substitution, stages, heredocs, and
what real files contain and hadolint stumbles on (comments inside continuations, parser
directives, ONBUILD, a bad instruction in the middle of a good file)."""

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


# --- robustness ---

def test_run_heredoc_and_copy_heredoc_keep_their_bodies_and_lines():
    df = parser.parse("# syntax=docker/dockerfile:1\n"
                      "FROM busybox:1.36\n"
                      "RUN <<EOS\ncd /tmp\necho hi\nEOS\n"
                      "COPY <<EOT /etc/motd\nhello\nEOT\n"
                      "RUN <<-'TABS'\n\techo tabbed\n\tTABS\n"
                      "CMD [\"sh\"]\n")
    run, copy, tabs, cmd = df.instructions[1:]
    assert (run.line, run.end_line) == (3, 6) and run.heredocs[0].body == "cd /tmp\necho hi\n"
    assert copy.cmd == "COPY" and (copy.line, copy.end_line) == (7, 9)
    assert copy.heredocs[0].name == "EOT" and copy.heredocs[0].body == "hello\n"
    assert tabs.heredocs[0].body == "echo tabbed\n" and tabs.heredocs[0].strip_tabs
    assert cmd.line == 13 and cmd.json_form == ["sh"]
    assert df.directives == {"syntax": "docker/dockerfile:1"}


def test_two_heredocs_in_one_run():
    df = parser.parse("FROM a:1\nRUN <<A cat > /a && <<B cat > /b\none\nA\ntwo\nB\nCMD x\n")
    run = df.instructions[1]
    assert [h.body for h in run.heredocs] == ["one\n", "two\n"] and run.end_line == 6
    assert df.instructions[2].line == 7


def test_a_bash_here_string_is_not_a_heredoc():
    df = parser.parse('FROM a:1\nSHELL ["/bin/bash", "-c"]\nRUN cat <<<"text" > /x\nCMD x\n',
                      tolerant=True)
    assert not df.errors and not df.instructions[2].heredocs and df.instructions[3].line == 4


def test_escape_directive_and_directives_only_at_the_top():
    df = parser.parse("# escape=`\n# check=skip=JSONArgsRecommended\nFROM a:1\n"
                      "RUN echo one `\n    && echo two\n# syntax=ignored/here\nCMD [\"x\"]\n")
    assert df.escape == "`" and df.directives["check"] == "skip=JSONArgsRecommended"
    assert "syntax" not in df.directives
    assert df.instructions[1].rest == "echo one && echo two"
    assert (6, "syntax=ignored/here") in df.comments


def test_comment_and_blank_lines_inside_a_continuation():
    df = parser.parse("FROM a:1\nRUN echo one \\\n    # not an argument\n\n    && echo two\nEXPOSE 80\n")
    run = df.instructions[1]
    assert run.rest == "echo one && echo two" and (run.line, run.end_line) == (2, 5)
    assert df.instructions[2].line == 6


def test_onbuild_holds_a_parsed_trigger():
    df = parser.parse("FROM a:1\nONBUILD RUN [\"make\", \"all\"]\nONBUILD COPY --chown=1:1 . /src\n")
    run, copy = df.instructions[1].trigger, df.instructions[2].trigger
    assert run.cmd == "RUN" and run.json_form == ["make", "all"] and run.line == 2
    assert copy.cmd == "COPY" and copy.flags == {"chown": "1:1"} and copy.rest == ". /src"


def test_tolerant_parse_reports_each_bad_line_and_reads_on():
    text = ("FROM a:1\nRUN echo one\nCOPY\nONBUILD ONBUILD RUN x\nFROM\nFOO bar\n"
            "RUN <<EOT\nnever closed\n")
    df = parser.parse(text, tolerant=True)
    assert df.errors == [(3, "COPY needs arguments"), (4, "ONBUILD ONBUILD is not allowed"),
                         (5, "FROM needs an image"), (7, "heredoc <<EOT is never closed")]
    # the unknown instruction is kept (for its lint finding) but builds nothing
    # the unknown instruction is kept (for its lint finding) but builds nothing; the lines
    # after an unclosed heredoc are read as instructions again (a mistyped terminator)
    assert [(i.cmd, i.line) for i in df.instructions] == [
        ("FROM", 1), ("RUN", 2), ("ONBUILD", 4), ("FOO", 6), ("RUN", 7), ("NEVER", 8)]
    assert [i.cmd for i in df.final.instructions] == ["FROM", "RUN", "ONBUILD", "RUN"]
    assert df.instructions[2].trigger is None


def test_strict_parse_stops_at_the_first_problem():
    with pytest.raises(BadInput, match=r"Dockerfile:2: heredoc <<EOT is never closed"):
        parser.parse("FROM a:1\nRUN <<EOT\nx\n")
    with pytest.raises(BadInput, match=r":1: escape directive"):
        parser.parse("# escape=x\nFROM a:1\n")


def test_no_from_is_bad_input_even_when_tolerant():
    with pytest.raises(BadInput, match="RUN before the first FROM"):
        parser.parse("RUN x\n", tolerant=True)
    with pytest.raises(BadInput, match="no FROM instruction"):
        parser.parse("# only a comment\n", tolerant=True)


def test_instructions_before_from_and_global_args():
    df = parser.parse("ARG TAG=1.36\nCMD x\nFROM busybox:${TAG}\n", tolerant=True)
    assert df.errors == [(2, "CMD before the first FROM")]
    assert df.final.base == "busybox:1.36"


def test_crlf_line_ends_and_a_byte_order_mark(tmp_path):
    p = tmp_path / "Dockerfile"
    p.write_bytes(b"\xef\xbb\xbfFROM a:1\r\nRUN echo one \\\r\n    && echo two\r\nRUN <<EOS\r\nls\r\nEOS\r\n")
    df = parser.read(str(p), tolerant=True)
    assert not df.errors and [i.cmd for i in df.instructions] == ["FROM", "RUN", "RUN"]
    assert df.instructions[1].rest == "echo one && echo two"
    assert df.instructions[2].heredocs[0].body == "ls\n"
