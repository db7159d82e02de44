"""The file viewer and extraction (issue 13, item 8) on the bundled sample: bodies are
read again from their layer blob, text shown as text, binary as hex."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimscope.errors import BadInput
from slimscope.image.member import open_member
from slimscope.image.reference import load_image
from slimscope.tui.app import ExplorerApp
from slimscope.tui.viewer_model import body_for, find, hex_dump, location, looks_binary
from slimscope.tui.widgets.viewer import ExtractScreen, ViewerScreen
from tests.support.tui_helpers import ready, run_async, settle

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / "sample-images" / "demo.tar")


def app_for():
    return ExplorerApp(DEMO, display_name="demo", no_cache=True)


async def at(pilot, path: str) -> None:
    assert pilot.app.tree.reveal(path)
    await settle(pilot)
    assert pilot.app.tree.cursor_path == path


def test_open_member_reads_one_body_from_its_layer():
    image = load_image(DEMO)
    m = open_member(image, 2, "/root/.ssh/id_rsa")
    assert m.size == 850 and len(m.data) == 850 and not m.truncated
    assert m.data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    head = open_member(image, 0, "/bin/busybox", limit=64)
    assert head.size == 1982256 and len(head.data) == 64 and head.truncated
    with pytest.raises(BadInput, match="stores no regular file /etc/passwd"):
        open_member(image, 3, "/etc/passwd")


def test_text_binary_and_search_of_a_body():
    assert not looks_binary(b"hello\nworld\n")
    assert looks_binary(b"\x7fELF\x00\x01")
    assert looks_binary(bytes(range(128, 256)) * 4)
    assert hex_dump(b"AB\x00") == "00000000  41 42 00" + " " * 39 + "  |AB.|"
    b = body_for(b"x" * 10, 100)
    assert not b.binary and b.cut and b.shown == 10
    text = "one\ntwo Root\nthree root"
    at = find(text, "root")
    assert location(text, at) == (1, 4)
    assert location(text, find(text, "root", at + 1)) == (2, 6)
    assert find(text, "root", len(text) - 2) == at     # wraps round
    assert find(text, "absent") is None


@run_async
async def test_view_a_text_file_page_and_search():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await at(pilot, "/etc/passwd")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ViewerScreen)
        assert screen.body is not None and not screen.body.binary
        assert screen.area.text.startswith("root:x:0:0:root:/root:/bin/sh")
        await pilot.press("slash", *"nobody", "enter")
        await settle(pilot)
        assert screen.match == (1, 0) and screen.area.selected_text == "nobody"
        await pilot.press("pagedown", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, ViewerScreen)


@run_async
async def test_view_a_binary_file_as_hex_capped():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await at(pilot, "/bin/busybox")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert screen.body.binary and screen.body.cut
        assert screen.area.text.startswith("00000000  7f 45 4c 46")
        head = str(screen.query_one("#viewer-head").render())
        assert "binary" in head and "of 2.0 MB" in head


@run_async
async def test_a_hardlink_shows_its_body_and_a_directory_is_refused():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await at(pilot, "/app/twin")          # its name's twin /app/orig was deleted later
        assert app.body_at_cursor() == (5, "/app/orig")
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.area.text == "o" * 12000
        await pilot.press("escape")
        await at(pilot, "/app/lib")
        assert app.body_at_cursor() is None


@run_async
async def test_extract_writes_atomically_and_asks_before_replacing(tmp_path):
    dest = tmp_path / "passwd"
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await at(pilot, "/etc/passwd")
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExtractScreen)
        box = screen.query_one("#extract-path")
        box.value = str(dest)
        await pilot.press("enter")
        await settle(pilot)
        want = open_member(load_image(DEMO), 0, "/etc/passwd").data
        assert dest.read_bytes() == want
        assert os.listdir(tmp_path) == ["passwd"]       # no temporary left behind
        assert not isinstance(app.screen, ExtractScreen)

        dest.write_bytes(b"mine")
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#extract-path").value = str(dest)
        await pilot.press("enter")                      # refused: it exists
        await settle(pilot)
        assert dest.read_bytes() == b"mine"
        assert "exists" in str(screen.query_one("#extract-note").render())
        assert isinstance(app.screen, ExtractScreen)
        await pilot.press("enter")                      # the second Enter confirms
        await settle(pilot)
        assert dest.read_bytes() == want
        assert sorted(os.listdir(tmp_path)) == ["passwd"]


@pytest.mark.parametrize("source", ["sample-images/demo-oci", "sample-images/demo.oci.tar"])
def test_open_member_through_every_bundled_transport(source):
    # gzip/zstd layer blobs in a layout directory or an OCI archive: the same body
    m = open_member(load_image(str(REPO / source)), 2, "/root/.ssh/id_rsa")
    assert m.size == 850 and m.data == open_member(load_image(DEMO), 2, "/root/.ssh/id_rsa").data
