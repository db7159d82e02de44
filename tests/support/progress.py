"""One line on the terminal when the tests start slow preparation (a
debootstrap, an image build), so a cold run says what it is doing instead of
sitting silent for minutes. Written through pytest's terminal reporter with
capture suspended, so it shows even under ``-q`` and inside a test call."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_config = None


def attach(config) -> None:
    """Called by tests/conftest.py at pytest_configure."""
    global _config
    _config = config


def announce(message: str) -> None:
    line = f"[slimscope tests] {message}"
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
