"""The explorer's keys and layout at every width (issue 13): bursts of `[`/`]`, keys
from the filter, the summary at 80 columns, panes sized to the terminal, columns that
line up, a filter that opens the tree, status filters and the owner columns."""

from __future__ import annotations

from pathlib import Path

from slimscope.tui.app import ExplorerApp
from slimscope.tui.filters import path_matcher
from slimscope.tui.model import CHANGES
from tests.support.tui_helpers import ready, run_async, settle

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / "sample-images" / "demo.tar")


def app_for():
    return ExplorerApp(DEMO, display_name="sample-images/demo.tar", no_cache=True)


def tree_lines(app) -> list[str]:
    tree = app.tree
    return [tree.render_line(y).text for y in range(min(tree.size.height, len(tree._tree_lines)))]


@run_async
async def test_a_burst_of_presses_moves_one_layer_each():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert app.layer == 6
        await pilot.press("[", "[", "[")        # no pause between them
        await settle(pilot)
        assert app.layer == 3 and app.layers_pane.cursor_row == 3
        assert app.shown.view.layer == 3        # the file pane followed the last press
        await pilot.press("]", "]", "]", "]", "]")   # past the top: stops at the last layer
        await settle(pilot)
        assert app.layer == 6


@run_async
async def test_layer_keys_work_while_the_filter_has_focus():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("slash", "s", "o", "[", "[")
        await settle(pilot)
        assert app.filter_bar.input.has_focus
        assert app.filter_bar.input.value == "so"
        assert app.layer == 4


def test_a_bracket_that_opens_no_class_is_a_fragment():
    match = path_matcher("[")
    assert match("/odd[name") and not match("/usr/bin")
    assert path_matcher("a]")("/data]") is True
    # a real class is still a glob
    assert path_matcher("lib[ab].so")("/usr/lib/liba.so")
    assert not path_matcher("lib[ab].so")("/usr/lib/lib[ab].so")


@run_async
async def test_80x24_keeps_the_secret_the_efficiency_and_every_layer_in_view():
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        bar = app.query_one("#summary").plain
        assert "⚠ 1 hidden secret" in bar
        assert "efficiency 84.2%" in bar and "paths 306" in bar and "wasted" in bar
        layers = app.layers_pane
        assert layers.scroll_offset.y == 0
        # borders and the header: 7 layer rows fit, layer 0 and 1 included
        assert layers.size.height >= 7 + 1
        # the command column is what is left of the pane, not cut to nothing
        assert layers.columns["cmd"].width >= 16
        text = str(app.query_one("#layer-command").render())
        assert text.startswith("layer 6: rm /tmp/big-download.tar")


@run_async
async def test_the_summary_keeps_the_secret_warning_at_any_width():
    app = app_for()
    async with app.run_test(size=(60, 20)) as pilot:
        await ready(pilot)
        assert "⚠ 1 hidden secret" in app.query_one("#summary").plain


@run_async
async def test_panes_follow_the_terminal_and_hiding_details_gives_layers_the_room():
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await ready(pilot)
        left = app.query_one("#left")
        assert left.size.width == 80
        # wide: the bar and wasted columns come back, and commands get room
        assert {"bar", "wasted"} <= set(app.layers_pane.columns)
        assert app.layers_pane.columns["cmd"].width >= 30
        before = app.layers_pane.size.height
        await pilot.press("d")
        await settle(pilot)
        assert not app.details.display
        assert app.layers_pane.size.height > before + 10


@run_async
async def test_a_tiny_terminal_is_told_so():
    app = app_for()
    async with app.run_test(size=(50, 12)) as pilot:
        await ready(pilot)
        note = app.query_one("#too-small")
        assert note.display and not app.query_one("#main").display
        assert "too small" in str(note.render())
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert not note.display and app.query_one("#main").display


@run_async
async def test_sizes_line_up_down_the_tree_whatever_the_depth():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("home", "e")
        await settle(pilot)
        lines = [l for l in tree_lines(app) if "%" in l]
        assert len(lines) > 10
        # every row's share column ends at the same cell, before any guide
        assert len({l.index("%") for l in lines}) == 1
        deep = next(l for l in lines if "busybox" in l)
        assert deep.index("%") < deep.index("├") < deep.index("busybox")


@run_async
async def test_a_filter_opens_the_tree_to_its_matches():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"*.so.1", "enter")
        await settle(pilot)
        nodes = app.tree.nodes
        assert "/app/lib/libdemo.so.1" in nodes
        assert nodes["/app"].is_expanded and nodes["/app/lib"].is_expanded
        assert any("libdemo-later.so.1" in l for l in tree_lines(app))


@run_async
async def test_status_filters_and_the_owner_columns():
    app = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("m")               # layer 6's changes: deletions, additions, ...
        await settle(pilot)
        assert app.mode == CHANGES
        def rows() -> set:
            return set(app.shown.totals)      # the rows the tree shows

        everything = rows()
        assert "/tmp/big-download.tar" in everything and "/app/cache/c" in everything
        await pilot.press("2")               # hide removed
        await settle(pilot)
        assert "/tmp/big-download.tar" not in rows() and "/app/cache/c" in rows()
        assert "hiding removed" in str(app.filter_bar.query_one("#view-status").render())
        await pilot.press("1")               # and added
        await settle(pilot)
        assert "/app/cache/c" not in rows() and "/app/config.json" in rows()
        await pilot.press("2", "1", "3")     # only modified hidden now
        await settle(pilot)
        assert "/app/config.json" not in rows() and "/tmp/big-download.tar" in rows()
        await pilot.press("3", "home", "p")
        await settle(pilot)
        assert app.tree.show_owner
        assert any("rwx" in l and "0:0" in l for l in tree_lines(app))
