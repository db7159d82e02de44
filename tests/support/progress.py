"""One line on the terminal when the tests start slow preparation (a
debootstrap, an image build), so a cold run says what it is doing instead of
sitting silent for minutes. Written through pytest's terminal reporter with
capture suspended, so it shows even under ``-q`` and inside a test call.

A line from another thread (tests/support/prewarm.py builds images in one) is
queued and written by the main thread at the next test boundary: suspending
capture from a second thread would hand it the running test's output."""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_config = None
_pending: queue.SimpleQueue[str] = queue.SimpleQueue()


def attach(config) -> None:
    """Called by tests/conftest.py at pytest_configure."""
    global _config
    _config = config


def announce(message: str) -> None:
    line = f"[slimscope tests] {message}"
    if threading.current_thread() is not threading.main_thread():
        _pending.put(line)
        return
    flush()
    _write(line)


def flush() -> None:
    """Write what other threads announced (main thread only; the conftest calls it
    at every test's start and end)."""
    while True:
        try:
            line = _pending.get_nowait()
        except queue.Empty:
            return
        _write(line)


def _write(line: str) -> None:
    reporter = _config.pluginmanager.get_plugin("terminalreporter") if _config else None
    capman = _config.pluginmanager.get_plugin("capturemanager") if _config else None
    if reporter is None:
        print(line, file=sys.stderr, flush=True)
        return
    if capman is not None:
        with capman.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(line)
            reporter.flush()
    else:
        reporter.write_line(line)


@contextmanager
def step(message: str) -> Iterator[None]:
    """announce(message), then how long it took."""
    announce(message + " ...")
    start = time.monotonic()
    yield
    announce(f"{message}: done in {time.monotonic() - start:.0f} s")
