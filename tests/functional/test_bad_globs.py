"""A glob the dialect refuses is bad input in every command that takes one: exit 2 and
one line on stderr that names the glob, never a traceback or an 'unexpected error'."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAR = "sample-images/demo.tar"


def _run(argv, tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), SLIMSCOPE_JOBS="1", NO_COLOR="1",
               PYTHONPATH=str(ROOT))
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, "-m", "slimscope", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv, glob, why", [
    (["slim", TAR, "--dry-run", "--remove", "/a/[]x]"], "/a/[]x]", "empty character class"),
    (["slim", TAR, "--dry-run", "--remove", "/a/[z-a]"], "/a/[z-a]", "bad character range z-a"),
    (["ci", TAR, "--no-config", "--forbid", "/a/[]x]"], "/a/[]x]", "empty character class"),
    (["ci", TAR, "--no-config", "--forbid", "/a/[z-a]"], "/a/[z-a]", "bad character range z-a"),
    (["ci", TAR, "--no-config", "--path-budget", "/a/[z-a]=1MB"], "/a/[z-a]",
     "bad character range z-a"),
    (["ci", TAR, "--no-config", "--secrets-allow", "/a/[!]"], "/a/[!]", "empty character class"),
])
def test_bad_glob_is_one_line_and_exit_2(argv, glob, why, tmp_path):
    r = _run(argv, tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.splitlines() == [f"slimscope: bad path glob {glob!r}: {why}"]
    assert r.stdout == ""


@pytest.mark.parametrize("argv, line", [
    (["slim", TAR, "--dry-run", "--remove", ""],
     "slimscope: --remove wants a glob such as '/var/cache/*' or '*.log', got ''"),
    (["ci", TAR, "--no-config", "--forbid", ""],
     "slimscope: --forbid: expected a list of path globs like [\"**/*.pem\"], got ['']"),
])
def test_empty_glob_is_bad_input(argv, line, tmp_path):
    r = _run(argv, tmp_path)
    assert (r.returncode, r.stderr.splitlines()) == (2, [line])
