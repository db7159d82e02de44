"""slim --trace refuses what it cannot do with one line and exit 2, before any work:
no engine, no right to watch files, options that go with --trace used without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from slimscope.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]

DEMO = str(REPO_ROOT / "sample-images" / "demo.tar")


def _slim(*args):
    return CliRunner().invoke(main, ["slim", DEMO, *args])


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("slimscope: "), output
    return lines[0]


def test_no_engine_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    r = _slim("--trace", "-o", str(tmp_path / "out.tar"))
    assert r.exit_code == 2
    line = _one_line(r.output)
    if os.geteuid() == 0:
        assert "--trace runs the image: no Docker engine answers" in line
    assert not (tmp_path / "out.tar").exists()


def test_a_process_that_may_not_watch_files_is_told_so(tmp_path):
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-U", "true"], capture_output=True).returncode:
        pytest.skip("no unprivileged user namespaces here")
    # in a fresh user namespace the process has no CAP_SYS_ADMIN over the host
    p = subprocess.run(["unshare", "-U", sys.executable, "-m", "slimscope", "slim", DEMO,
                        "--trace", "-o", str(tmp_path / "out.tar")], capture_output=True,
                       text=True, cwd=str(REPO_ROOT),
                       env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert p.returncode == 2, p.stderr
    assert "--trace needs to watch files from the host" in _one_line(p.stderr)
    assert "Operation not permitted" in p.stderr


@pytest.mark.parametrize("args, message", [
    (["--exec", "true"], "--exec goes with --trace"),
    (["--http-probe", "80/"], "--http-probe goes with --trace"),
    (["--include-preset", "tzdata"], "--include-preset goes with --trace"),
    (["--trace", "--keep-from", "k.txt"], "--keep-from reuses a keep list instead of tracing"),
    (["--trace", "--via", "engine"], "offline writer"),
])
def test_options_that_need_trace(args, message, tmp_path):
    r = _slim(*args, "-o", str(tmp_path / "out.tar"))
    assert r.exit_code == 2
    assert message in _one_line(r.output)


def test_an_existing_keep_list_needs_force(tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("mine\n")
    r = _slim("--trace", "--keep-list", str(keep), "-o", str(tmp_path / "out.tar"))
    assert r.exit_code == 2 and "pass --force" in _one_line(r.output)
    assert keep.read_text() == "mine\n"
