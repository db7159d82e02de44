"""The gzip measuring pass of `slim` runs only when asked, and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "sample-images", "demo.tar")


def _slim(tmp_path, *extra):
    env = dict(os.environ, SLIMSCOPE_JOBS="1", PYTHONPATH=ROOT,
               SLIMSCOPE_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-m", "slimscope", "slim", DEMO, "-o",
                        str(tmp_path / f"out{len(extra)}.tar"), "--json", *extra],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), p.stderr


def test_compressed_sizes_only_with_the_flag(tmp_path):
    doc, err = _slim(tmp_path)
    assert doc["before"]["compressed_bytes"] is None and doc["after"]["compressed_bytes"] is None
    assert "gzip" not in err
    doc, err = _slim(tmp_path, "--compressed")
    assert 0 < doc["after"]["compressed_bytes"] < doc["before"]["compressed_bytes"]
    assert "measuring gzip sizes" in err and len(err.splitlines()) == 1
