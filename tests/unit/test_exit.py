"""How the `slimscope` process ends (slimscope.__main__._leave): the exit status and
every byte of output as before, atexit functions run, and no shortcut while another
thread still works."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DEMO = os.path.join(ROOT, "sample-images", "demo.tar")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "SLIMSCOPE_NO_CACHE": "1"})


def py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_piped_output_is_complete_and_the_status_kept(tmp_path):
    r = cli("analyze", DEMO, "--format", "json", "--files")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)   # every byte reached the pipe
    assert doc["files"] and r.stderr == ""
    r = cli("ci", DEMO, "--max-size", "1KB", "--no-config")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "max-size" in r.stdout + r.stderr
    r = cli("analyze", str(tmp_path / "missing.tar"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    r = cli("analyze", "--no-such-flag")
    assert r.returncode == 2


def test_atexit_functions_run_and_output_is_flushed():
    r = py("import atexit, sys\n"
           "from slimscope.__main__ import _leave\n"
           "atexit.register(lambda: print('atexit ran'))\n"
           "sys.stdout.write('unflushed')\n"
           "_leave(SystemExit(3))\n")
    assert r.returncode == 3
    assert r.stdout == "unflushedatexit ran\n"


def test_a_thread_still_working_is_waited_for():
    r = py("import sys, threading, time\n"
           "from slimscope.__main__ import _leave\n"
           "def work():\n"
           "    time.sleep(0.3)\n"
           "    print('thread done', flush=True)\n"
           "threading.Thread(target=work).start()\n"
           "try:\n"
           "    _leave(SystemExit(4))\n"
           "except SystemExit as e:\n"
           "    print('usual way', e.code, flush=True)\n"
           "    raise\n")
    assert r.returncode == 4
    assert r.stdout == "usual way 4\nthread done\n"


def test_a_message_status_takes_the_usual_way():
    r = py("from slimscope.__main__ import _leave\n_leave(SystemExit('why'))\n")
    assert r.returncode == 1 and r.stderr == "why\n"
