"""Drive the Textual explorer with its test pilot and time what a user waits for.

Run by tasks.py in a fresh process: `tasks.py tui IMAGE [CACHE_DIR]`. Times:
  first_screen  process start -> the app is mounted and answers keys (loading panel)
  usable        process start -> the file tree shows the image (analysis done)
  layer_switch  a `[`/`]` press -> the new layer's view is applied (median of 6)
  filter        Enter in the filter bar -> the filtered view is applied (median of 3)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

T0 = time.perf_counter()


async def _until(pilot, cond, timeout=600.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if getattr(pilot.app, "error", None):
            raise RuntimeError(f"the app failed: {pilot.app.error}")
        if loop.time() > end:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.002)


async def _timed_change(pilot, *keys):
    app = pilot.app
    before = app.shown
    t = time.perf_counter()
    await pilot.press(*keys)
    await _until(pilot, lambda: app.shown is not before and not app.workers._workers)
    await pilot.pause()          # let the screen repaint once
    return time.perf_counter() - t


def run_tui(image: str, cache: str = "") -> dict:
    if cache:
        os.environ["SLIMSCOPE_CACHE_DIR"] = cache
    from slimscope.tui.app import ExplorerApp

    app = ExplorerApp(image, no_cache=not cache)
    out = {}

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            out["first_screen"] = time.perf_counter() - T0
            await _until(pilot, lambda: app.shown is not None)
            await pilot.pause()
            out["usable"] = time.perf_counter() - T0
            await asyncio.sleep(0.3)
            switches = []
            for key in ("left_square_bracket",) * 3 + ("right_square_bracket",) * 3:
                switches.append(await _timed_change(pilot, key))
            out["layer_switches"] = switches
            out["layer_switch"] = statistics.median(switches)
            filters = []
            for text in ("d0042", "*.bin", "f0001*"):
                await pilot.press("slash", *text)
                filters.append(await _timed_change(pilot, "enter"))
                await pilot.press("slash", "escape")
                await _until(pilot, lambda: not app.workers._workers)
                await asyncio.sleep(0.4)
            out["filters"] = filters
            out["filter"] = statistics.median(filters)
            out["entries_shown"] = app.shown.matched if app.shown is not None else None
            await pilot.press("q")

    asyncio.run(go())
    out["seconds"] = out["usable"]
    return out
