"""The explorer shows the layers already indexed while the rest is read (issue 13 item 9).

The sources hand out prefixes of indexed layers (image/feed.py); the analysis of
the whole image is the same with or without anyone listening; the app shows a
preview with a word that says so, then the whole image.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import threading
from pathlib import Path

import pytest

from slimscope.core.analysis import analyze
from slimscope.core.report import to_json
from slimscope.image.feed import LayerFeed
from slimscope.image.model import Image, Layer
from slimscope.index import parallel
from slimscope.index.records import LayerIndex
from slimscope.tui import previews as previews_module
from slimscope.tui.app import ExplorerApp
from tests.support.tui_helpers import run_async, settle

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample-images"
# What each form tells before its last layer is read (README, "which forms stream").
STREAMING = {"demo-oci": True, "demo.tar": True, "demo.oci.tar": True}


def _layer(pos: int) -> Layer:
    return Layer(pos, f"sha256:{pos}", "", "", 0, False, LayerIndex())


def test_the_feed_hands_out_prefixes_in_order_and_never_the_whole_image():
    got = []
    feed = LayerFeed(lambda image, count: got.append(([l.position for l in image.layers], count)))
    feed.start(5, lambda layers: Image("x", "id", {}, layers, None))  # type: ignore[arg-type]
    for pos in (2, 0, 1, 4, 3):
        feed.put(_layer(pos))
    # 2 waits for 0; 0 makes [0]; 1 makes [0,1,2] at once; 4 waits; 3 would be all five
    assert got == [([0], 5), ([0, 1, 2], 5)]


def test_a_feed_that_was_not_started_says_nothing():
    got = []
    feed = LayerFeed(lambda image, count: got.append(image))
    feed.put(_layer(0))
    assert got == [] and not feed.started


def _prefixes(name: str):
    seen = []
    whole = analyze(name, use_cache=False,
                    on_layer=lambda image, count: seen.append((list(image.layers), count)))
    return seen, whole


def _check_prefixes(seen, whole) -> None:
    sizes = [len(layers) for layers, _ in seen]
    assert sizes == sorted(set(sizes)), sizes            # growing, each once
    n = len(whole.layers)
    assert all(count == n for _, count in seen) and all(0 < k < n for k in sizes)
    for layers, _ in seen:
        assert [l.position for l in layers] == list(range(len(layers)))
        assert [l.diff_id for l in layers] == [l.diff_id for l in whole.image.layers[:len(layers)]]


@pytest.mark.parametrize("name", sorted(STREAMING))
def test_sources_that_know_the_order_stream_and_the_analysis_is_unchanged(name):
    path = str(SAMPLES / name)
    seen, whole = _prefixes(path)
    assert bool(seen) == STREAMING[name]
    _check_prefixes(seen, whole)
    assert len(seen[0][0]) == 1            # the bottom layer is shown alone first
    assert to_json(whole, include_files=True) == to_json(analyze(path, use_cache=False),
                                                          include_files=True)


def test_a_compressed_archive_streams_nothing_its_manifest_comes_last(tmp_path):
    gz = tmp_path / "demo.tar.gz"
    with open(SAMPLES / "demo.tar", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    seen, whole = _prefixes(str(gz))
    assert seen == [] and len(whole.layers) == 7


@pytest.mark.parametrize("name", ["demo-oci", "demo.tar"])
def test_worker_processes_stream_in_layer_order_too(name, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("SLIMSCOPE_JOBS", "2")
    path = str(SAMPLES / name)
    seen, whole = _prefixes(path)
    # (which prefixes come depends on which worker ends first: when the bottom layer,
    # started first as the biggest, ends last, there are none)
    _check_prefixes(seen, whole)
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    assert to_json(whole, include_files=True) == to_json(analyze(path, use_cache=False),
                                                          include_files=True)


class Held:
    """Holds the loader after the preview of the first `k` layers is handed over, until
    the test lets it go: the real loader, paused where a slow image would be."""

    def __init__(self, monkeypatch, k: int):
        self.go = threading.Event()
        real = previews_module.Previews.offer

        def offer(previews, image, count):
            real(previews, image, count)
            if len(image.layers) == k:
                assert self.go.wait(60), "the test never let the loader go"
        monkeypatch.setattr(previews_module.Previews, "offer", offer)


async def _until(pilot, cond, timeout=60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if pilot.app.error:
            raise AssertionError(pilot.app.error)
        assert loop.time() < end, "timed out"
        await pilot.pause(0.02)


def _explorer():
    return ExplorerApp(str(SAMPLES / "demo-oci"), display_name="demo", no_cache=True)


@run_async
async def _preview_then_whole(monkeypatch, move: bool):
    held = Held(monkeypatch, 3)
    app = _explorer()
    async with app.run_test(size=(140, 40)) as pilot:
        await _until(pilot, lambda: app.partial == (3, 7) and app.shown is not None)
        await pilot.pause()
        bar = app.query_one("#summary").plain
        assert "⏳ layers 0–2 of 7 shown, reading layer 3" in bar, bar
        assert app.layers_pane.row_count == 3 and app.layer == 2
        assert app.tree.cursor_path is not None          # a tree to read already
        assert "layer 2" in app.status_plain
        if move:
            await pilot.press("left_square_bracket")    # the user reads layer 1 meanwhile
            await _until(pilot, lambda: app.layer == 1)
        held.go.set()
        await _until(pilot, lambda: app.partial is None and app.model is not None
                     and len(app.analysis.layers) == 7)
        await settle(pilot)
        bar = app.query_one("#summary").plain
        assert "⏳" not in bar and "paths 306" in bar and "⚠ 1 hidden secret" in bar
        assert app.layers_pane.row_count == 7
        assert app.layer == (1 if move else 6)
        assert app.layers_pane.cursor_row == app.layer
        await pilot.press("q")


def test_the_explorer_shows_a_preview_then_the_whole_image(monkeypatch):
    _preview_then_whole(monkeypatch, move=False)


def test_a_layer_picked_in_the_preview_stays_picked(monkeypatch):
    _preview_then_whole(monkeypatch, move=True)


@run_async
async def _final_equals(monkeypatch):
    """The screen after a preview is the screen of a load without one."""
    async def screen(with_preview: bool) -> str:
        if not with_preview:
            monkeypatch.setattr(previews_module.Previews, "offer", lambda self, image, count: None)
        app = _explorer()
        async with app.run_test(size=(140, 40)) as pilot:
            await _until(pilot, lambda: app.partial is None and app.model is not None)
            await settle(pilot)
            return app.export_screenshot()
    assert await screen(True) == await screen(False)


def test_after_the_preview_the_screen_is_the_one_without(monkeypatch):
    _final_equals(monkeypatch)


@run_async
async def _sketch_then_whole(monkeypatch):
    """An archive file is first shown from its tar headers (every layer, exact sizes,
    no digests), then as the whole analysis: the loader is held between the two."""
    from slimscope.core import analysis as analysis_module

    go = threading.Event()
    real = analysis_module.open_image

    def held(*args, **kwargs):
        assert kwargs.get("on_layer") is None   # layer previews would show less than the sketch
        assert go.wait(60), "the test never let the loader go"
        return real(*args, **kwargs)
    monkeypatch.setattr(analysis_module, "open_image", held)
    app = ExplorerApp(str(SAMPLES / "demo.tar"), display_name="demo", no_cache=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await _until(pilot, lambda: app.partial == (7, 7) and app.shown is not None)
        await pilot.pause()
        bar = app.query_one("#summary").plain
        assert "⏳ sizes from the tar headers, checking contents" in bar, bar
        assert "(not hashed)" not in bar
        assert app.layers_pane.row_count == 7 and app.layer == 6
        assert app.tree.cursor_path is not None
        sketched = app.analysis
        assert not sketched.hashed and not sketched.duplicates
        go.set()
        await _until(pilot, lambda: app.partial is None and app.analysis is not sketched)
        await settle(pilot)
        whole = app.analysis
        assert whole.hashed and (whole.total_bytes, whole.final_bytes, whole.file_count) == (
            sketched.total_bytes, sketched.final_bytes, sketched.file_count)
        assert "⏳" not in app.query_one("#summary").plain
        await pilot.press("q")


def test_an_archive_file_is_sketched_from_its_headers_first(monkeypatch):
    _sketch_then_whole(monkeypatch)


def test_a_sketch_reads_no_body(tmp_path, monkeypatch):
    """Bodies are seeked past: a layer whose file bodies are unreadable still sketches,
    and streams, layouts with compressed blobs and compressed archives have none."""
    from slimscope.core.analysis import sketch

    whole = analyze(str(SAMPLES / "demo.tar"), use_cache=False, hash_contents=False)
    got = sketch(str(SAMPLES / "demo.tar"))
    assert got is not None
    assert [(l.tar_bytes, l.files, l.bytes) for l in got.layers] == \
        [(l.tar_bytes, l.files, l.bytes) for l in whole.layers]
    assert (got.total_bytes, got.final_bytes, got.wasted_bytes) == \
        (whole.total_bytes, whole.final_bytes, whole.wasted_bytes)
    assert sketch(str(SAMPLES / "demo-oci")) is None
    gz = tmp_path / "demo.tar.gz"
    with open(SAMPLES / "demo.tar", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert sketch(str(gz)) is None

    from slimscope.index import streams
    reads = []
    real = streams.RangeReader.readinto

    def counting(self, b):
        n = real(self, b)
        reads.append(n)
        return n
    monkeypatch.setattr(streams.RangeReader, "readinto", counting)
    sketch(str(SAMPLES / "demo.tar"))
    headers = sum(len(l.index) for l in got.image.layers)
    # at most a block of headers per entry (plus buffering), far less than the bodies
    assert sum(reads) < sum(l.tar_bytes for l in got.layers) / 2, (sum(reads), headers)


def test_no_sketch_when_the_cache_answers_for_every_layer(tmp_path, monkeypatch):
    from slimscope.core.analysis import sketch

    path = tmp_path / "demo.tar"
    shutil.copyfile(SAMPLES / "demo.tar", path)
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    assert sketch(str(path)) is not None           # nothing cached: sketch it
    analyze(str(path))                             # the cache now answers for each layer
    assert sketch(str(path)) is None
    assert sketch(str(path), use_cache=False) is not None
    with open(path, "r+b") as f:                   # a write: the notes no longer hold
        f.seek(0, 2)
        f.write(b"\0" * 1024)
    assert sketch(str(path)) is not None
