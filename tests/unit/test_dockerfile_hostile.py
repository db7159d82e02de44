"""Dockerfiles that are not files, that are huge on one line, or that double a
variable until memory runs out: each ends in seconds, with one line or a result."""

from __future__ import annotations

import os
import random
import shlex
import time

import pytest

from slimscope.dockerfile.words import split
from tests.support.hostile import one_line_error, run_cli


@pytest.mark.parametrize("command", ["lint", "dockerfile"])
def test_fifo_is_refused(tmp_path, command):
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    line = one_line_error(run_cli(command, str(fifo), timeout=30))
    assert "not a regular file" in line


@pytest.mark.parametrize("command", ["lint", "dockerfile"])
def test_doubling_is_bounded_and_named(tmp_path, command):
    text = "FROM debian:12\nARG B=0123456789\nENV A=$B\n" + "ENV A=$A$A\n" * 30
    (tmp_path / "Dockerfile").write_text(text)
    line = one_line_error(run_cli(command, str(tmp_path / "Dockerfile"), timeout=30))
    assert "$A expands past" in line and ":" in line


def test_megabyte_line_lints_in_seconds(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian:12-slim\nRUN echo " + "a" * 1_000_000
                                         + " && echo 'x " + "b" * 500_000 + "'\n")
    start = time.monotonic()
    r = run_cli("lint", str(tmp_path / "Dockerfile"), timeout=60)
    assert r.returncode in (0, 1), r.stderr
    assert time.monotonic() - start < 20


def test_words_read_as_shlex_reads_them():
    rnd = random.Random(18)
    alphabet = ["a", "b", " ", "\t", "\n", "'", '"', "\\", "$", "#", "|", "="]
    for _ in range(20000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        try:
            want = shlex.split(text, posix=True)
        except ValueError as e:
            want = ["error", str(e)]
        try:
            got = split(text)
        except ValueError as e:
            got = ["error", str(e)]
        assert got == want, repr(text)
