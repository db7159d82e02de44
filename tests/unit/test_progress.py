"""The terminal's progress bar shows only for a run that lasts: a quick run never
imports rich for it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import io, sys, time
class Tty(io.StringIO):
    def isatty(self):
        return True
sys.stderr = Tty()
from slimscope.cli.common import progress_callback
update, stop = progress_callback("reading x", after=float(sys.argv[1]))
update(10, 100)
time.sleep(float(sys.argv[2]))
update(50, 100)
stop()
out = sys.stderr.getvalue()
sys.__stdout__.write(f"{'rich.progress' in sys.modules} {len(out) > 0}\\n")
"""


def _probe(after: float, runs_for: float) -> str:
    p = subprocess.run([sys.executable, "-c", PROBE, str(after), str(runs_for)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_a_quick_run_shows_and_imports_no_bar():
    assert _probe(5.0, 0.0) == "False False"


def test_a_longer_run_gets_the_bar():
    assert _probe(0.05, 1.0) == "True True"
