"""Snapshots of the explorer's main screens at a fixed size (pytest-textual-snapshot).

The demo image is written byte-for-byte the same on every run, and the app shows
a fixed name instead of the temporary path, so the screens are deterministic.
Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from slimscope.tui.app import ExplorerApp
from tests.support.tui_helpers import ready, settle
from tests.support.tui_images import demo_image

SIZE = (140, 40)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return str(demo_image(tmp_path_factory.mktemp("tui-snap") / "demo"))


def app(demo):
    return ExplorerApp(demo, display_name="demo", no_cache=True)


def keys(*presses):
    async def run_before(pilot):
        await ready(pilot)
        for k in presses:
            await pilot.press(k)
            await settle(pilot)
        await settle(pilot)
    return run_before


def test_main_screen(snap_compare, demo):
    assert snap_compare(app(demo), terminal_size=SIZE, run_before=keys("home", "e"))


def test_layer_changes_with_deletions(snap_compare, demo):
    # layer 2 in changes mode, everything open, cursor on the deleted archive
    assert snap_compare(app(demo), terminal_size=SIZE,
                        run_before=keys("left_square_bracket", "m", "home", "e", "down", "down"))


def test_waste_view(snap_compare, demo):
    assert snap_compare(app(demo), terminal_size=SIZE, run_before=keys("w"))


def test_help_screen(snap_compare, demo):
    assert snap_compare(app(demo), terminal_size=SIZE, run_before=keys("question_mark"))


def test_filtered_waste_only(snap_compare, demo):
    assert snap_compare(app(demo), terminal_size=SIZE,
                        run_before=keys("left_square_bracket", "left_square_bracket", "m", "o",
                                        "home", "e"))


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 45)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_at_width(snap_compare, demo, size):
    # the summary keeps the secret warning, layers fit, sizes line up before the guides
    assert snap_compare(app(demo), terminal_size=size, run_before=keys("home", "e"))


def test_owner_columns_and_status_filter(snap_compare, demo):
    assert snap_compare(app(demo), terminal_size=(120, 36),
                        run_before=keys("m", "p", "1", "home", "e"))
