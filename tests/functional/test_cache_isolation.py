"""The autouse `layer_cache` fixture (tests/conftest.py): what the CLI caches
lands in the test's own directory, never in the user's ~/.cache/slimscope."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from slimscope.cli import main
from slimscope.index.cache import cache_dir
from tests.support.engine import REPO_ROOT

DEMO = REPO_ROOT / "sample-images" / "demo.tar"


def _files(d) -> set:
    return {os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs}


def test_cli_caches_into_the_tests_own_dir(layer_cache):
    assert cache_dir() == os.path.join(str(layer_cache), "layers-v2")
    assert _files(layer_cache) == set()
    r = CliRunner().invoke(main, ["analyze", str(DEMO)])
    assert r.exit_code == 0, r.output
    assert len(_files(layer_cache)) >= 7      # one index per layer of the demo image


def test_subprocesses_inherit_it(layer_cache):
    r = subprocess.run([sys.executable, "-m", "slimscope", "analyze", str(DEMO)],
                       capture_output=True, text=True, cwd=REPO_ROOT,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert r.returncode == 0, r.stderr
    assert _files(layer_cache)


def test_apart_from_tmp_path(layer_cache, tmp_path):
    # tests check that a command leaves nothing in tmp_path: the cache is elsewhere
    assert not str(layer_cache).startswith(str(tmp_path))
    assert _files(layer_cache) == set()
