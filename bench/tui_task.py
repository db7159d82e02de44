"""Drive the Textual explorer with its test pilot and time what a user waits for.

Run by tasks.py in a fresh process: `tasks.py tui IMAGE [CACHE_DIR]`. Times:
  first_screen  process start -> the app is mounted and answers keys (loading panel)
  usable        process start -> the file tree shows the image (analysis done)
  layer_switch  a `[`/`]` press -> the last frame showing the new layer (median of 6)
  filter        Enter in the filter bar -> the last frame showing the filtered view
                (median of 3)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from textual import events

T0 = time.perf_counter()
QUIET = 0.15


async def _until(pilot, cond, timeout=600.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if getattr(pilot.app, "error", None):
            raise RuntimeError(f"the app failed: {pilot.app.error}")
        if loop.time() > end:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.002)


async def _timed_change(pilot, key: str) -> float:
    """Seconds from a key reaching the app to the last frame it caused.

    The key goes in as the pilot sends it, but without the pilot's idle waits
    (each press sleeps 20 ms at least twice, which would swamp a 100 ms target).
    Frames are counted where the app hands a finished screen update to the
    driver (`App._display`): the moment a terminal would get it."""
    app = pilot.app
    frames = []
    display = app._display

    def timed_display(screen, renderable):
        display(screen, renderable)
        if renderable is not None:
            frames.append(time.perf_counter())

    app._display = timed_display
    try:
        before = app.shown
        t = time.perf_counter()
        app._driver.send_message(events.Key(key, None))
        await _until(pilot, lambda: app.shown is not before)
        while True:   # until no frame for QUIET seconds
            n = len(frames)
            await asyncio.sleep(QUIET)
            if len(frames) == n:
                break
    finally:
        app._display = display
    return (frames[-1] if frames else time.perf_counter()) - t


def run_tui(image: str, cache: str = "") -> dict:
    if cache:
        os.environ["SLIMSCOPE_CACHE_DIR"] = cache
    from slimscope.tui import app as app_module
    from slimscope.tui.app import ExplorerApp

    # typing must not apply the filter before the timed Enter does
    app_module.FILTER_DELAY = 60.0
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
