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


WARM_PROBE = PROBE.replace('("requests", "docker", "textual", "rich", "urllib3",\n'
                           '                                       "numpy")', '("_hashlib",)')


def test_a_small_image_does_not_load_openssl(tmp_path):
    """hashlib's OpenSSL (~3.7 MiB resident) is loaded only once the bodies hashed
    outgrow CPython's own sha256's room (slimscope.index.digests.BUILTIN_ROOM): the
    demo's cold run stays within it, and over an unchanged archive the cache answers."""
    assert WARM_PROBE != PROBE
    env = dict(os.environ, SLIMSCOPE_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", WARM_PROBE, "analyze", DEMO],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    assert runs[0].stdout.strip() == ""
    assert runs[1].stdout.strip() == ""


# As a user runs it (click.testing, the probe above, loads tempfile and shutil itself).
MODULES_AT_EXIT = """
import atexit, runpy, sys
WATCHED = ("_hashlib", "tarfile", "tempfile", "shutil", "slimscope.image.registry_auth",
           "slimscope.image.daemon")
atexit.register(lambda: sys.stderr.write(
    "LOADED:" + " ".join(m for m in WATCHED if m in sys.modules) + "\\n"))
if sys.argv[1:]:
    sys.argv = ["slimscope", *sys.argv[1:]]
    runpy.run_module("slimscope", run_name="__main__", alter_sys=True)
"""


def test_a_warm_run_loads_no_tar_reader_or_temporaries(tmp_path):
    """An unchanged archive file is listed by slimscope's own header walker and read
    from the cache: tarfile, tempfile and shutil (with bz2, lzma, random) stay unloaded,
    ~1 MiB and ~6 ms of every warm run; so do the registry settings and the engine's
    source (~3 ms), which no local archive needs."""
    env = dict(os.environ, SLIMSCOPE_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", MODULES_AT_EXIT, "analyze", DEMO],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
            for _ in range(2)]
    # what this interpreter's site loads before any program (a .pth may import some)
    bare = subprocess.run([sys.executable, "-c", MODULES_AT_EXIT], capture_output=True,
                          text=True, env=env, timeout=60)
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    before = set(bare.stderr.strip().rsplit("LOADED:", 1)[-1].split())
    loaded = [set(r.stderr.strip().rsplit("LOADED:", 1)[-1].split()) - before for r in runs]
    assert "_hashlib" not in loaded[0]   # the demo's bodies fit CPython's sha256's room
    assert loaded[1] == set()
