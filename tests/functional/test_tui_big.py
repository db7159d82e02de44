"""A synthetic image of 50,000+ files (made with tarfile, no engine): the explorer
opens it, switches layers and modes, filters, and pages a long directory."""

from __future__ import annotations

import pytest
from textual import events

from slimscope.tui.app import ExplorerApp
from slimscope.tui.model import CHANGES
from slimscope.tui.widgets.filetree import PAGE, More
from tests.support.tui_helpers import ready, run_async, settle
from tests.support.tui_images import big_image

FILES = 50_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return str(big_image(tmp_path_factory.mktemp("tui-big") / "big", files=FILES))


@run_async
async def test_big_image_opens_switches_and_filters(big):
    app = ExplorerApp(big, display_name="big", no_cache=True)
    async with app.run_test(size=(150, 45)) as pilot:
        await ready(pilot, timeout=180)
        a = app.analysis
        assert len(a.image.layers[0].index) > FILES
        assert app.shown.total == a.final_bytes
        # only the open rows exist: the root's children, not 50,000 nodes
        assert len(app.tree.nodes) < 50
        await pilot.press("left_square_bracket")          # base layer, image mode
        await settle(pilot)
        assert app.layer == 0 and app.shown.total == a.layers[0].bytes
        await pilot.press("m", "right_square_bracket")    # churn layer, changes
        await settle(pilot)
        assert app.mode == CHANGES and app.layer == 1
        rows = app.shown.view.rows
        assert sum(1 for e in rows.values() if e.status == 4) == FILES // 50
        # /new holds 700 files: the first page, then a "more" row that loads the rest
        app.tree.reveal("/new")
        await settle(pilot)
        await pilot.press("right")
        await settle(pilot)
        new = app.tree.nodes["/new"]
        assert len(new.children) == PAGE + 1 and isinstance(new.children[-1].data, More)
        app.tree.move_cursor(new.children[-1])
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert len(new.children) == 700
        # a filter over every file, then a glob
        await pilot.press("slash", *"d0042", "enter")
        await settle(pilot)
        assert set(app.shown.children["/data"]) == {"/data/d0042"}
        await pilot.press("slash", "escape")
        await pilot.pause(0.4)
        # `[` and `]` select layers even in the filter: a character class is pasted
        await pilot.press("slash")
        app.filter_bar.input.post_message(events.Paste("f0000[0-4]?.txt"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.filter_text == "f0000[0-4]?.txt", app.filter_text
        leaves = [p for p, e in rows.items() if p in app.shown and not e.is_dir]
        assert leaves and all(p.rsplit("/", 1)[1] < "f000050" for p in leaves)
        await pilot.press("slash", "escape", "o", "m")     # no filter; waste only, image
        await settle(pilot)
        assert app.filter_text == "" and app.shown.matched > 0
        # every kept file row stores bytes the final image does not show
        assert all(e.hides or e.ref in app.model.wasted_units
                   for p, e in app.shown.view.rows.items() if p in app.shown and not e.is_dir)
        await pilot.press("e")                             # expand all: capped, no hang
        await settle(pilot)
        await pilot.press("q")
    assert app.return_code == 0
