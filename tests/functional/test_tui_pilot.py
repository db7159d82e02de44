"""Pilot tests of `slimscope tui`: open real images, drive keys, check what the widgets hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.tui.app import ExplorerApp
from slimscope.tui.model import CHANGES, IMAGE
from slimscope.tui.screens import HelpScreen, WasteScreen
from tests.support.tui_helpers import child_names, ready, run_async, settle
from tests.support.tui_images import demo_image

REPO = Path(__file__).resolve().parents[2]
SIZE = (150, 45)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return str(demo_image(tmp_path_factory.mktemp("tui") / "demo"))


def app_for(image, **kw):
    return ExplorerApp(image, display_name="demo", no_cache=True, **kw)


@run_async
async def test_opens_on_the_final_image_sorted_by_size(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        a = app.analysis
        assert app.layer == len(a.layers) - 1 == 3
        assert app.mode == IMAGE
        # the image up to the last layer is the final filesystem: same bytes
        assert app.shown.total == a.final_bytes
        # largest first at the top level: /usr (libbig.so) before /app before /bin
        assert child_names(app.tree.root)[:3] == ["usr", "app", "bin"]
        assert app.layers_pane.row_count == 4
        assert app.focused is app.tree


@run_async
async def test_move_through_layers_and_switch_modes(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        a = app.analysis
        await pilot.press("m")                      # this layer's changes
        await settle(pilot)
        assert app.mode == CHANGES
        rows = app.shown.view.rows
        assert rows["/app/data.bin"].status == 2    # metadata-only in layer 3
        assert "/usr/share/doc/NOTE" in rows and "/bin/sh" not in rows
        await pilot.press("left_square_bracket")    # layer 2: the deletions
        await settle(pilot)
        assert app.layer == 2 and app.layers_pane.cursor_row == 2
        rows = app.shown.view.rows
        assert rows["/tmp/build.tar"].status == 4 and rows["/tmp/build.tar"].hides == 300_000
        assert rows["/root/.ssh/id_rsa"].hides == 1_700
        assert child_names(app.tree.root) == ["tmp", "root", "etc"]   # by size: what they hide
        await pilot.press("left_square_bracket")    # layer 1
        await settle(pilot)
        assert app.shown.total == a.layers[1].bytes  # changes: exactly the layer's content
        await pilot.press("m")                      # image up to layer 1
        await settle(pilot)
        assert app.mode == IMAGE
        assert app.shown.total == a.layers[0].bytes + a.layers[1].bytes  # nothing hidden yet
        assert "/tmp/build.tar" in app.shown.view.rows
        # the layers pane drives it too: focus it and move down
        app.layers_pane.focus()
        await pilot.press("down")
        await settle(pilot)
        assert app.layer == 2
        ghost = app.shown.view.rows["/tmp/build.tar"]   # shown as deleted, not counted
        assert ghost.status == 4 and not ghost.counted and app.shown.totals["/tmp"] == 0
        assert app.details.subject == ("layer", 2)
        assert "rm -rf /tmp/build.tar" in app.details.text


@run_async
async def test_sort_toggle_and_tree_keys(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert child_names(app.tree.root) == sorted(child_names(app.tree.root))
        assert child_names(app.tree.root)[0] == "app"
        await pilot.press("down", "right")            # open /app
        await settle(pilot)
        assert app.tree.nodes["/app"].is_expanded
        assert child_names(app.tree.nodes["/app"]) == ["data.bin", "main.py"]
        await pilot.press("left")                     # close it again
        await settle(pilot)
        assert not app.tree.nodes["/app"].is_expanded
        await pilot.press("e")                        # expand all under the cursor
        await settle(pilot)
        assert app.tree.nodes["/app"].is_expanded
        await pilot.press("home", "e")                # from the root: everything opens
        await settle(pilot)
        assert app.tree.nodes["/usr/share/doc"].is_expanded
        await pilot.press("c")
        await settle(pilot)
        assert not any(n.is_expanded for p, n in app.tree.nodes.items() if p != "/")


@run_async
async def test_filter_by_fragment_and_glob(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("slash")
        assert app.focused is app.filter_bar.input
        await pilot.press(*"doc", "enter")
        await settle(pilot)
        assert app.filter_text == "doc"
        assert app.focused is app.tree
        assert set(app.shown.children["/"]) == {"/usr"}
        assert "/usr/share/doc/NOTE" in app.shown       # a matching dir keeps its contents
        assert "/usr/lib" not in app.shown
        await pilot.press("slash", "ctrl+a")
        app.filter_bar.input.value = ""
        await pilot.press(*"*.py", "enter")
        await settle(pilot)
        assert [p for p, e in app.shown.view.rows.items() if p in app.shown
                and not e.is_dir] == ["/app/main.py"]
        # the view line says what filters
        await pilot.press("slash", "escape")           # Esc clears the filter
        await pilot.pause(0.4)
        await settle(pilot)
        assert app.filter_text == "" and app.shown.total == app.analysis.final_bytes


@run_async
async def test_changed_only_and_waste_only(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("u")                          # image at layer 3, changed only
        await settle(pilot)
        kept = {p for p in app.shown.view.rows if p in app.shown and p != "/"}
        assert "/app/data.bin" in kept and "/usr/share/doc/NOTE" in kept
        assert "/bin/sh" not in kept and "/usr/lib/libbig.so" not in kept
        await pilot.press("u", "o")                     # only waste
        await settle(pilot)
        await pilot.press("left_square_bracket", "left_square_bracket", "m")   # layer 1 changes
        await settle(pilot)
        leaves = {p for p, e in app.shown.view.rows.items() if p in app.shown and not e.is_dir}
        assert leaves == {"/tmp/build.tar", "/root/.ssh/id_rsa", "/app/data.bin"}
        assert app.shown.total == 300_000 + 1_700 + 120_000


@run_async
async def test_waste_view_secret_on_top_and_jump(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WasteScreen)
        table = app.screen.table
        assert table.row_count == len(app.analysis.waste) == 6
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == "⚠" and first[-1] == "/root/.ssh/id_rsa"
        assert str(table.get_row_at(1)[-1]) == "/tmp/build.tar"       # then the largest
        await pilot.press("down", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, WasteScreen)
        assert (app.layer, app.mode) == (1, CHANGES)
        assert app.tree.cursor_path == "/tmp/build.tar"
        assert app.details.subject == ("file", "/tmp/build.tar")
        text = app.details.text
        assert "deleted in layer 2" in text and "layer 1    added" in text
        # and the secret: jump, details warn
        await pilot.press("w", "enter")
        await settle(pilot)
        assert app.tree.cursor_path == "/root/.ssh/id_rsa"
        assert "anyone who pulls the image can read it" in app.details.text


@run_async
async def test_details_of_files_and_layers(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.tree.reveal("/bin/ls")
        await settle(pilot)
        assert app.tree.cursor_path == "/bin/ls"
        text = app.details.text
        assert "→ sh" in text and "rwxrwxrwx" in text and "added in   layer 0" in text
        app.tree.reveal("/app/data.bin")
        await settle(pilot)
        text = app.details.text
        for want in ("/app/data.bin", "120,000 bytes", "rw------- (0600)", "sha256:",
                     "layer 1    added", "layer 3    metadata-only", "metadata-only in layer 3"):
            assert want in text, want
        await pilot.press("d")
        assert not app.details.display
        await pilot.press("d")
        assert app.details.display
        app.layers_pane.focus()
        await settle(pilot)
        text = app.details.text
        assert "chmod 600 /app/data.bin" in text and app.analysis.layers[3].digest in text


@run_async
async def test_help_palette_and_quit(demo):
    app = app_for(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for want in ("Waste", "Mode", "Sort", "Filter", "Expand all", "Collapse all", "Details"):
            assert want in titles
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and app.error is None


@run_async
async def test_bad_archive_fails_after_start_with_one_line(tmp_path):
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"this is not a tar archive" * 40)
    app = ExplorerApp(str(bad), no_cache=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            if app.error:
                break
            await pilot.pause(0.05)
    assert app.error and "\n" not in app.error
    assert app.return_code == 2


def test_cli_bad_image_one_line_exit_2():
    r = CliRunner().invoke(main, ["tui", "/nonexistent.tar"])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == ["slimscope: no such file: /nonexistent.tar"]


def test_cli_needs_a_terminal(demo):
    r = CliRunner().invoke(main, ["tui", demo])
    assert r.exit_code == 2
    assert "needs a terminal" in r.output and len(r.output.strip().splitlines()) == 1


SAMPLE = REPO / "sample-images" / "demo.tar"


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample-images/demo.tar not built")
@run_async
async def test_bundled_sample_secret_jump():
    app = ExplorerApp(str(SAMPLE), no_cache=True)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.shown.total == app.analysis.final_bytes
        secrets = app.analysis.secrets
        assert secrets, "the demo image hides a secret"
        await pilot.press("w", "enter")
        await settle(pilot)
        assert app.tree.cursor_path == secrets[0].path
        assert app.layer == secrets[0].layer


@pytest.mark.engine
@run_async
async def test_engine_image_waste_and_layers(engine, tmp_path):
    from tests.support.forms import save_archive
    from tests.support.images import fixture_image

    tag = fixture_image("opaque-dir")
    archive = save_archive(tag, tmp_path / "opaque.tar")
    for name in (str(archive), f"docker-daemon:{tag}"):
        app = ExplorerApp(name, no_cache=True)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            a = app.analysis
            assert app.shown.total == a.final_bytes
            await pilot.press("w")
            await settle(pilot)
            assert app.screen.table.row_count == len(a.waste) == 3
            await pilot.press("enter")
            await settle(pilot)
            assert app.tree.cursor_path == a.waste[0].path == "/d/sub/big"
            await pilot.press("right_square_bracket")      # the layer that emptied /d
            await settle(pilot)
            assert app.shown.view.rows["/d"].hides == 10_004
