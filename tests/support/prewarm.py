"""The slow images of the engine tests, built from the start of the session in a
thread of their own: the engine downloads and unpacks packages while pytest runs
the unit and functional tests before them (on a cold engine these builds were
minutes of the run, spent while the test that needed them waited).

An engine test module lists what it builds in ``PREWARM``: ``(tag, build)`` pairs,
``build`` taking no arguments and making the image through the very call the test
makes (same tag, same inputs). The test then finds the image there and builds
nothing, or waits for the build under way (``build_image`` takes a lock per tag).
Only the modules of the selected tests are read, so `-m "not engine"` or one test
file builds nothing more than before. A build that fails here is announced and
left: the test's own call builds again and fails with the engine's log.

``SLIMSCOPE_TEST_PREWARM=0`` turns it off (each test builds what it needs, when
it needs it).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable

from tests.support.engine import engine_client
from tests.support.progress import announce

Build = tuple[str, Callable[[], object]]

_stop = threading.Event()
_thread: threading.Thread | None = None


def wanted(items: Iterable) -> list[Build]:
    """The PREWARM entries of the selected tests' modules, in test order, each tag once."""
    builds: dict[str, Callable[[], object]] = {}
    seen: set[int] = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or id(module) in seen:
            continue
        seen.add(id(module))
        for tag, build in getattr(module, "PREWARM", ()):
            builds.setdefault(tag, build)
    return list(builds.items())


def start(items: Iterable) -> None:
    """Called by tests/conftest.py once the tests are collected."""
    global _thread
    if os.environ.get("SLIMSCOPE_TEST_PREWARM", "").strip() == "0":
        return
    builds = wanted(items)
    if not builds or engine_client() is None:
        return  # nothing to build, or the tests skip (or fail) on the engine themselves
    _stop.clear()
    _thread = threading.Thread(target=_run, args=(builds,), name="slimscope-prewarm",
                               daemon=True)
    _thread.start()


def stop() -> None:
    """No new build after the session; one under way ends with the process."""
    _stop.set()


def _run(builds: list[Build]) -> None:
    what = "image" if len(builds) == 1 else f"{len(builds)} images"
    announce(f"building the engine tests' slow {what} in the background: "
             + ", ".join(tag for tag, _ in builds))
    start = time.monotonic()
    for tag, build in builds:
        if _stop.is_set():
            return
        try:
            build()
        except Exception as exc:  # the test that needs it builds again and says why
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            announce(f"background build of {tag} failed ({first[:200]}); "
                     "its test builds it again")
    announce(f"background builds done in {time.monotonic() - start:.0f} s")
