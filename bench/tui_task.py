"""Drive the Textual explorer with its test pilot and time what a user waits for.

Run by tasks.py in a fresh process: `tasks.py tui IMAGE [CACHE_DIR]`. Times:
  first_screen  process start -> the first frame (the loading panel, answering keys)
  usable        process start -> the first frame whose file tree shows the image, or
                the first layers of it while the rest is read (a preview)
  complete      process start -> the first frame showing the whole image
  layer_switch  a `[`/`]` press -> the last frame showing the new layer (median of 6)
  filter        Enter in the filter bar -> the last frame showing the filtered view
                (median of 3)

Frames are counted where the app hands a finished screen update to the driver
(`App._display`): the moment a terminal would get it. Keys go in as the pilot
sends them but without its idle waits (each press sleeps 20 ms at least twice and
waits for the whole process to idle, which would swamp a 100 ms target).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from textual import events

T0 = time.perf_counter()
QUIET = 0.15   # no frame for this long: the change is over


class Frames:
    """Times of the frames an app shows, each with the view it showed."""

    def __init__(self, app):
        self.seen: list = []
        display = app._display

        def timed(screen, renderable):
            display(screen, renderable)
            if renderable is not None:
                # (an app from before previews has no `partial`: it shows only the whole image)
                self.seen.append((time.perf_counter(), app.shown, getattr(app, "partial", None)))

        app._display = timed

    def first(self, cond, whole: bool = False):
        return next((t for t, shown, partial in self.seen
                     if cond(shown) and not (whole and partial)), None)


async def _until(pilot, cond, timeout=600.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if getattr(pilot.app, "error", None):
            raise RuntimeError(f"the app failed: {pilot.app.error}")
        if loop.time() > end:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.002)


async def _quiet(frames: Frames) -> None:
    while True:
        n = len(frames.seen)
        await asyncio.sleep(QUIET)
        if len(frames.seen) == n:
            return


async def _timed_change(pilot, frames: Frames, key: str) -> float:
    """Seconds from a key reaching the app to the last frame it caused."""
    app = pilot.app
    before = app.shown
    t = time.perf_counter()
    app._driver.send_message(events.Key(key, None))
    await _until(pilot, lambda: app.shown is not before)
    await _quiet(frames)
    return frames.seen[-1][0] - t


def run_tui(image: str, cache: str = "") -> dict:
    if cache:
        os.environ["SLIMSCOPE_CACHE_DIR"] = cache
    from slimscope.tui import app as app_module
    from slimscope.tui.app import ExplorerApp

    # typing must not apply the filter before the timed Enter does
    app_module.FILTER_DELAY = 60.0
    app = ExplorerApp(image, no_cache=not cache)
    frames = Frames(app)
    out = {}

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            await _until(pilot, lambda: app.shown is not None and frames.first(bool, whole=True))
            out["first_screen"] = frames.first(lambda shown: True) - T0
            out["usable"] = frames.first(bool) - T0
            out["complete"] = frames.first(bool, whole=True) - T0
            await _quiet(frames)
            await asyncio.sleep(0.3)
            switches = []
            for key in ("left_square_bracket",) * 3 + ("right_square_bracket",) * 3:
                switches.append(await _timed_change(pilot, frames, key))
            out["layer_switches"] = switches
            out["layer_switch"] = statistics.median(switches)
            filters = []
            for text in ("d0042", "*.bin", "f0001*"):
                await pilot.press("slash", *text)
                filters.append(await _timed_change(pilot, frames, "enter"))
                await pilot.press("slash", "escape")
                await _quiet(frames)
                await asyncio.sleep(0.4)
            out["filters"] = filters
            out["filter"] = statistics.median(filters)
            out["entries_shown"] = app.shown.matched if app.shown is not None else None
            await pilot.press("q")

    asyncio.run(go())
    out["seconds"] = out["usable"]
    return out
