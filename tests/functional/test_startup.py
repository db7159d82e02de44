"""What a command imports on the way: reading a local archive must not load the
HTTP client, the Docker SDK, the TUI or rich (the report writes its own lines), or numpy
(which only the path table needs): each
is tens of milliseconds and megabytes of start-up that every run would pay."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(REPO, "sample-images", "demo.tar")

PROBE = """
import sys
from click.testing import CliRunner
from slimscope.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
# ci may fail its gate on the demo (1); anything else is a broken probe
assert result.exit_code in (0, 1) and isinstance(result.exception, (SystemExit, type(None))), result.output
print(" ".join(sorted(m for m in ("requests", "docker", "textual", "rich", "urllib3",
                                       "numpy") if m in sys.modules)))
"""


@pytest.mark.parametrize("args", [["analyze", DEMO], ["analyze", "--format", "json", DEMO],
                                  ["ci", DEMO]], ids=["text", "json", "ci"])
def test_an_archive_loads_no_client_or_ui(args, tmp_path):
    env = dict(os.environ, SLIMSCOPE_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
