"""One count, one word (issue 12 item 18): the analysis JSON, the text report and the
explorer say the same numbers for the same image, or name what they count apart.

* paths: every path of a filesystem, directories included, whiteouts not
  (`totals.files` in JSON; "paths N" in the report and the summary bar; "in N paths"
  for the explorer's image view of the top layer);
* entries: what one layer's tar stores, whiteouts not (`layers[i].files`; "in N
  entries" in the details pane and the changes view of that layer);
* whiteouts: the layer's deletion markers (`layers[i].deleted`; "N whiteouts").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from slimscope.core.fmt import plural
from slimscope.tui.app import ExplorerApp
from tests.support.tui_helpers import ready, run_async, settle

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ["sample-images/demo.tar", "sample-images/demo-oci"]


def analyze(image: str, *args: str) -> str:
    env = dict(os.environ, COLUMNS="160", TERM="dumb", NO_COLOR="1", SLIMSCOPE_JOBS="1")
    p = subprocess.run([sys.executable, "-m", "slimscope", "analyze", image, "--no-cache", *args],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module", params=IMAGES)
def image(request):
    doc = json.loads(analyze(request.param, "--format", "json"))
    return request.param, doc, analyze(request.param), analyze(request.param, "--format", "markdown")


def test_the_report_and_markdown_say_the_json_count_as_paths(image):
    _, doc, text, markdown = image
    n = doc["totals"]["files"]
    assert n == 306
    assert re.search(rf"\bpaths {n}\b", text)
    assert f"{n} paths." in markdown
    assert "files 306" not in text and "306 files" not in markdown


@run_async
async def _tui_counts(name: str, doc: dict) -> None:
    app = ExplorerApp(str(ROOT / name), display_name=name, no_cache=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        total = doc["totals"]["files"]
        assert f"paths {total}" in app.query_one("#summary").plain
        top = len(doc["layers"]) - 1
        assert app.layer == top
        # the image view of the top layer is the final filesystem
        assert f" in {plural(total, 'path', 'paths')}" in app.status_plain, app.status_plain
        for layer in doc["layers"]:
            i = layer["index"]
            app.layers_pane.focus()
            app.layers_pane.select_layer(i)
            await settle(pilot)
            assert app.layer == i
            entries = plural(layer["files"], "entry", "entries")
            assert f"in {entries}" in app.details.text, app.details.text
            if app.mode != "changes":
                await pilot.press("m")
                await settle(pilot)
            assert f" in {entries}" in app.status_plain, (i, app.status_plain)
            whiteouts = layer["deleted"]
            said = re.search(r"(\d+) whiteouts?", app.status_plain)
            assert (int(said.group(1)) if said else 0) == whiteouts, (i, app.status_plain)
            await pilot.press("m")      # back to the image view
            await settle(pilot)
        await pilot.press("q")


def test_the_explorer_counts_what_the_analysis_counts(image):
    name, doc, _, _ = image
    _tui_counts(name, doc)
