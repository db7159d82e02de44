"""Time from start to a usable file tree, taken the same way for any terminal program.

The program runs in a detached tmux session of a fixed size, on a tmux server of
its own (a socket of its own under the temp dir, so no one else's sessions are seen or
touched), and the screen is read with `tmux capture-pane -p` every 20 ms until a
row of a file tree shows a known path. The clock starts before the session is
created, so the server's start (a few ms) is in every figure alike. The server is
killed after each run, which ends the program with it.

bench/tui_task.py times slimscope's own frames from inside the app; this one sees
only what a terminal shows, which is the only way to put dive beside it.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import tempfile
import time

POLL = 0.02
SIZE = (160, 45)
TIMEOUT = 300.0
_serial = itertools.count()


def tree_row(name: str) -> re.Pattern:
    """A row of a drawn tree naming NAME: `├── boot` (dive), `├   boot/` or `├ ▶ usr/` (slimscope)."""
    return re.compile(rf"[├└][─ ]*(?:[▶▼] )?{re.escape(name)}/?(?=\s|$)", re.M)


def _tmux(sock: str, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                          check=check)


def time_to_row(argv: list[str], name: str, env: dict[str, str] | None = None,
                unset: tuple[str, ...] = (), cwd: str | None = None,
                size: tuple[int, int] = SIZE, timeout: float = TIMEOUT) -> float:
    """Seconds from starting ARGV until a tree row naming NAME is on its screen."""
    sock = os.path.join(tempfile.gettempdir(), f"slimscope-bench-tmux-{os.getpid()}-{next(_serial)}")
    # The environment goes on the command line: a tmux server that was already up
    # would otherwise hand the program its own environment, not ours.
    cmd = ["env", *(f"--unset={k}" for k in unset),
           *(f"{k}={v}" for k, v in (env or {}).items()), *argv]
    pattern = tree_row(name)
    screen = ""
    t0 = time.perf_counter()
    _tmux(sock, "new-session", "-d", "-s", "bench", "-x", str(size[0]), "-y", str(size[1]),
          "-c", cwd or os.getcwd(), shlex.join(cmd), check=True)
    try:
        while True:
            p = _tmux(sock, "capture-pane", "-p", "-t", "bench")
            if p.returncode:
                raise RuntimeError(f"{argv[0]} ended before {name!r} showed; last screen:\n"
                                   f"{screen}")
            screen = p.stdout
            if pattern.search(screen):
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"{name!r} not on screen after {timeout:.0f} s:\n{screen}")
            time.sleep(POLL)
    finally:
        _tmux(sock, "kill-server")
        try:   # the server leaves its socket behind
            os.unlink(sock)
        except FileNotFoundError:
            pass
