"""Shared helpers of the TUI tests: the demo image and waiting for the app."""

from __future__ import annotations

import asyncio


async def settle(pilot) -> None:
    """Let timers, workers and the follow-up messages run."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def ready(pilot, timeout: float = 60) -> None:
    """Wait until the whole analysis is in (not a preview of the first layers) and the
    file tree shows a view."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while app.shown is None or app.partial is not None:
        if app.error:
            raise AssertionError(f"the app failed to load: {app.error}")
        if loop.time() > end:
            raise AssertionError("the app did not load in time")
        await pilot.pause(0.05)
    await settle(pilot)


def child_names(node) -> list:
    """The names of a tree node's children (the last word of each label)."""
    out = []
    for c in node.children:
        data = c.data
        out.append(data.rsplit("/", 1)[-1] if isinstance(data, str) else str(c.label))
    return out


def node_for(tree, path: str):
    return tree.nodes.get(path)


def run_async(fn):
    """Run an async test with asyncio.run (no async pytest plugin needed)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
