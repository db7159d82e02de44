"""Every way a command line can be wrong is one `slimscope:` line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("args,line", [
    (["analyze", "--bogus", "x"],
     "slimscope: No such option '--bogus' (see 'slimscope analyze --help')"),
    (["nope"], "slimscope: No such command 'nope' (see 'slimscope --help')"),
    (["ci", "x.tar", "--top", "0"], "slimscope: Invalid value for '--top': 0 is not in the range "
                                    "x>=1 (see 'slimscope ci --help')"),
    (["analyze"], "slimscope: Missing argument 'IMAGE' (see 'slimscope analyze --help')"),
])
def test_usage_errors_are_one_line(args, line):
    p = _run(*args)
    assert p.returncode == 2
    assert p.stderr == line + "\n"


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path):
    p = _run("--debug", "analyze", str(tmp_path / "nonexistent.tar"))
    assert p.returncode == 2
    assert "Traceback" in p.stderr
    assert p.stderr.splitlines()[-1].startswith("slimscope: no such file")
