"""The HTML reports (`analyze --format html`, `ci --html`, `diff --format html`) as a
browser shows them: headless chromium opens the written file from disk, and the
tests read the page the way a person would — numbers, clicks, search."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from slimscope.core.fmt import size
from slimscope.core.paths import FinalTable
from tests.functional import browser
from tests.support.engine import REPO_ROOT

DEMO = REPO_ROOT / "sample-images" / "demo.tar"
DEMO_OCITAR = REPO_ROOT / "sample-images" / "demo.oci.tar"

pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="sample-images/demo.tar is missing")


def slimscope(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NO_COLOR="1")
    for var in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "slimscope", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def driver():
    d = browser.start()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def demo_doc():
    p = slimscope("analyze", DEMO, "--format", "json", "--files")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    p = slimscope("analyze", DEMO, "--format", "html", "-o", out)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    return out


def stat(driver, key: str):
    el = driver.find_element("css selector", f'.stat[data-key="{key}"]')
    return el.get_attribute("data-value"), el.find_element("css selector", "b").text


def crumbs(driver) -> list:
    return [b.text for b in driver.find_elements("css selector", "#breadcrumb .crumb")]


def tile(driver, path: str):
    return driver.find_element("css selector", f'#map [data-path="{path}"]')


def area(el) -> float:
    r = el.rect
    return r["width"] * r["height"]


def wait(driver, cond, timeout: float = 5.0):
    from selenium.common.exceptions import StaleElementReferenceException  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    # The page redraws the map on each step: an element read mid-redraw may be gone.
    return WebDriverWait(driver, timeout, ignored_exceptions=(
        StaleElementReferenceException,)).until(lambda d: cond())


def test_page_is_one_file_with_nothing_to_fetch(demo_page):
    page = demo_page.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # Every src/href is inline data: an artifact opened offline must not reach out.
    assert re.findall(r'\b(?:src|href)="(?!data:)', page) == []
    assert "<link rel=\"stylesheet\"" not in page
    assert "d3-hierarchy" in page


def test_html_to_stdout_without_output(demo_page):
    p = slimscope("analyze", DEMO, "--format", "html")
    assert p.returncode == 0, p.stderr
    assert p.stdout.rstrip("\n") == demo_page.read_text(encoding="utf-8").rstrip("\n")


@pytest.mark.browser
def test_header_numbers_equal_the_json(driver, demo_page, demo_doc):
    browser.open_page(driver, demo_page)
    assert browser.errors(driver) == []
    t = demo_doc["totals"]
    for key in ("final_bytes", "total_bytes", "wasted_bytes"):
        assert stat(driver, key) == (str(t[key]), size(t[key]))
    assert stat(driver, "efficiency") == (str(t["efficiency"]), f"{t['efficiency']:.1%}")
    assert stat(driver, "layers")[0] == str(t["layers"])
    assert driver.find_element("id", "image-ref").text == demo_doc["image"]["reference"]
    assert driver.find_element("id", "image-id").text == demo_doc["image"]["id"]
    secrets = driver.find_element("id", "secrets").text
    assert "/root/.ssh/id_rsa was deleted in layer 6 but is still in layer 2" in secrets
    # The layer table: one row per layer, each with its full command.
    rows = driver.find_elements("css selector", "#layers tbody tr")
    assert len(rows) == t["layers"]
    assert "/usr/local/bin/demo-suid && chmod 4755 /usr/local/bin/demo-suid" in rows[5].text


@pytest.mark.browser
def test_zoom_into_a_directory_and_back(driver, demo_page, demo_doc, tmp_path):
    browser.open_page(driver, demo_page)
    assert crumbs(driver) == ["/"]
    table = FinalTable.of_records(demo_doc["files"], "demo")
    under_app = table.bytes_under(table.group["/app"])

    # A click anywhere in /app (here on the largest file inside it) opens /app.
    tile(driver, "/app/data/blob.bin").click()
    wait(driver, lambda: crumbs(driver) == ["/", "app"])
    assert driver.find_element("css selector", "#breadcrumb .crumb-size").text.startswith(
        size(under_app) + " · ")
    # In the zoomed view the largest files take the largest tiles, in proportion.
    blob, config = tile(driver, "/app/data/blob.bin"), tile(driver, "/app/config.json")
    ratio = area(blob) / area(config)
    assert 65536 / 30000 * 0.8 < ratio < 65536 / 30000 * 1.25, ratio
    tiles = driver.find_elements("css selector", "#map .tile")
    m = driver.find_element("id", "map").rect
    assert sum(area(x) for x in tiles) <= m["width"] * m["height"]
    assert all(x.get_attribute("data-path").startswith("/app/")
               for x in tiles if x.get_attribute("data-path"))
    # Hover tells the exact size, the layer and the owner.
    from selenium.webdriver import ActionChains  # noqa: PLC0415
    from selenium.webdriver.common.keys import Keys  # noqa: PLC0415
    ActionChains(driver).move_to_element(config).perform()
    tip = driver.find_element("id", "tip")
    wait(driver, lambda: tip.is_displayed())
    assert "/app/config.json" in tip.text and "30.0 kB" in tip.text
    assert "from layer 6" in tip.text and "-rw-r--r-- 0:0" in tip.text
    driver.save_screenshot(str(tmp_path / "zoomed.png"))
    assert (tmp_path / "zoomed.png").stat().st_size > 10_000
    tile(driver, "/app/data").find_element("css selector", ":scope > span").click()
    wait(driver, lambda: crumbs(driver) == ["/", "app", "data"])
    driver.find_element("css selector", "body").send_keys(Keys.ESCAPE)    # one level up
    wait(driver, lambda: crumbs(driver) == ["/", "app"])
    driver.find_elements("css selector", "#breadcrumb .crumb")[0].click()
    wait(driver, lambda: crumbs(driver) == ["/"])
    assert tile(driver, "/bin/busybox")
    assert browser.errors(driver) == []


@pytest.mark.browser
def test_search_highlights_matching_paths(driver, demo_page, demo_doc, tmp_path):
    browser.open_page(driver, demo_page)
    box = driver.find_element("id", "search")
    box.send_keys("libdemo")
    expected = [f["path"] for f in demo_doc["files"] if "libdemo" in f["path"]]
    wait(driver, lambda: driver.find_element("id", "search-count").text
         == f"{len(expected)} paths match")
    hit = tile(driver, "/app/lib/libdemo-later.so.1")
    assert "hit" in hit.get_attribute("class").split()
    assert "hit" not in tile(driver, "/bin/busybox").get_attribute("class").split()
    assert "has-hit" in tile(driver, "/app").get_attribute("class").split()
    listed = driver.find_elements("css selector", "#side-list li[data-i] .p")
    assert sorted(p.text for p in listed) == sorted(expected)
    driver.save_screenshot(str(tmp_path / "search.png"))
    from selenium.webdriver.common.keys import Keys  # noqa: PLC0415
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    wait(driver, lambda: driver.find_element("id", "search-count").text == "")
    assert not driver.find_elements("css selector", "#map .hit")
    assert not driver.find_elements("css selector", "#side-list li")
    assert browser.errors(driver) == []


@pytest.mark.browser
def test_a_browser_that_cannot_unpack_still_shows_the_numbers(driver, demo_page, demo_doc):
    hook = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                  {"source": "delete window.DecompressionStream;"})
    try:
        browser.open_page(driver, demo_page)
        assert driver.find_element("css selector", "#map .empty").text.startswith(
            "This browser cannot unpack the treemap (no DecompressionStream)")
        t = demo_doc["totals"]
        assert stat(driver, "final_bytes") == (str(t["final_bytes"]), size(t["final_bytes"]))
        assert len(driver.find_elements("css selector", "#layers tbody tr")) == t["layers"]
        assert browser.errors(driver) == []
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                               {"identifier": hook["identifier"]})


@pytest.mark.browser
def test_waste_treemap_is_coloured_by_reason(driver, demo_page, demo_doc):
    browser.open_page(driver, demo_page)
    driver.find_element("css selector", '.tree-btn[data-tree="1"]').click()
    wait(driver, lambda: crumbs(driver) == ["/"] and driver.find_elements(
        "css selector", '#map [data-path="/tmp/big-download.tar"]'))
    assert tile(driver, "/tmp/big-download.tar").value_of_css_property(
        "background-color") == "rgba(225, 87, 89, 1)"        # deleted
    assert tile(driver, "/app/config.json").value_of_css_property(
        "background-color") == "rgba(176, 122, 161, 1)"      # overwritten
    size_text = driver.find_element("css selector", "#breadcrumb .crumb-size").text
    assert size_text.startswith(size(demo_doc["totals"]["wasted_bytes"]) + " · 100.0%")
    assert browser.errors(driver) == []


@pytest.mark.browser
def test_small_files_become_one_tile_and_stay_reachable(driver, demo_doc, tmp_path):
    """A document with one big file and 3,000 tiny ones: the tiny ones are drawn as one
    tile, which lists them; each listed path zooms to where it lives."""
    from slimscope.html import analysis_page  # noqa: PLC0415

    doc = json.loads(json.dumps(demo_doc))
    base = {"type": "file", "mode": 0o644, "uid": 0, "gid": 0, "layer": 0, "link": None,
            "digest": None}
    doc["files"] = [dict(base, path="/many/big.bin", size=50_000_000),
                    dict(base, path="/tiny/sub/x", size=80_000)] + [
        dict(base, path=f"/many/f{i:04d}", size=1000 + i % 7) for i in range(3000)]
    page = tmp_path / "many.html"
    page.write_text(analysis_page(doc), encoding="utf-8")
    browser.open_page(driver, page)
    agg = driver.find_element("css selector", "#map .agg")
    from selenium.webdriver import ActionChains  # noqa: PLC0415
    ActionChains(driver).move_to_element(agg).perform()
    tip = driver.find_element("id", "tip")
    wait(driver, lambda: tip.is_displayed())
    assert tip.text.startswith("3000 small entries in /many\n3.0 MB")
    assert driver.execute_script("return document.querySelectorAll('#map > div').length") < 10
    agg.click()
    items = driver.find_elements("css selector", "#side-list li")
    assert len([i for i in items if i.get_attribute("data-i")]) == 300
    assert items[-1].text == "… 2700 more (search narrows them)"
    # /tiny is big enough for a tile, too small to show what it holds.
    assert tile(driver, "/tiny").get_attribute("class").split() == ["tile", "dirleaf"]
    driver.find_element("id", "search").send_keys("sub/x")
    wait(driver, lambda: driver.find_element("id", "search-count").text == "1 path matches")
    assert "hit" in tile(driver, "/tiny").get_attribute("class").split()
    assert "hit" not in tile(driver, "/many/big.bin").get_attribute("class").split()
    driver.find_element("id", "search").clear()
    driver.find_element("id", "search").send_keys("/many/f2999")
    wait(driver, lambda: driver.find_element("css selector", "#side-list li[data-i] .p").text
         == "/many/f2999")
    driver.find_element("css selector", "#side-list li[data-i]").click()
    wait(driver, lambda: crumbs(driver) == ["/", "many"])
    # Still too small to draw alone: the tile that holds it is the one highlighted.
    assert "hit" in driver.find_element("css selector", "#map .agg").get_attribute("class")
    assert "hit" not in tile(driver, "/many/big.bin").get_attribute("class")
    assert browser.errors(driver) == []


@pytest.mark.browser
def test_ci_page_shows_each_rules_verdict(driver, tmp_path):
    page = tmp_path / "ci.html"
    p = slimscope("ci", DEMO, "--no-config", "--max-size", "1MB", "--max-layers", "20",
                  "--html", page, cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    browser.open_page(driver, page)
    assert browser.errors(driver) == []
    assert driver.find_element("id", "verdict").text == \
        "FAILED: 2 of 3 rules failed (max-size, no-hidden-secrets)"
    assert "FAILED: 2 of 3 rules failed (max-size, no-hidden-secrets)" in p.stdout
    rows = {r.get_attribute("data-rule"): r for r in
            driver.find_elements("css selector", "#ci tr.rule")}
    assert set(rows) == {"max-size", "max-layers", "no-hidden-secrets"}
    assert "fail" in rows["max-size"].get_attribute("class")
    assert "pass" in rows["max-layers"].get_attribute("class")
    assert "2.0 MB /bin/busybox" in rows["max-size"].text
    assert tile(driver, "/bin/busybox")

    passed = tmp_path / "pass.html"
    p = slimscope("ci", DEMO, "--no-config", "--max-size", "10MB", "--allow-hidden-secrets",
                  "--html", passed, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    browser.open_page(driver, passed)
    assert driver.find_element("id", "verdict").text == "PASSED: all 1 rule passed"
    assert "PASSED: all 1 rule passed" in p.stdout          # the same words as the log


def test_ci_html_says_so_when_the_image_cannot_be_read(tmp_path):
    page = tmp_path / "ci.html"
    p = slimscope("ci", tmp_path / "missing.tar", "--no-config", "--max-size", "1MB",
                  "--html", page, cwd=tmp_path)
    assert p.returncode == 2
    text = page.read_text(encoding="utf-8")
    assert "ERROR: the image could not be analysed" in text
    assert "missing.tar" in text


@pytest.mark.browser
def test_diff_page_shows_growth(driver, demo_doc, tmp_path):
    """OLD is a saved report without /app/config.json and with a smaller blob: the
    growth treemap shows the one as added and the other as grown."""
    old = json.loads(json.dumps(demo_doc))
    old["files"] = [f for f in old["files"] if f["path"] != "/app/config.json"]
    for f in old["files"]:
        if f["path"] == "/app/data/blob.bin":
            f["size"] = 5536
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    page = tmp_path / "diff.html"
    p = slimscope("diff", tmp_path / "old.json", DEMO, "--format", "html", "-o", page)
    assert p.returncode == 0, p.stderr
    browser.open_page(driver, page)
    assert browser.errors(driver) == []
    assert driver.find_element("css selector", ".tree-btn").text == "Growth 90.0 kB"
    tile(driver, "/app").find_element("css selector", ":scope > span").click()
    wait(driver, lambda: crumbs(driver) == ["/", "app"])
    added, grown = tile(driver, "/app/config.json"), tile(driver, "/app/data/blob.bin")
    assert added.value_of_css_property("background-color") == "rgba(89, 161, 79, 1)"
    assert grown.value_of_css_property("background-color") == "rgba(242, 142, 43, 1)"
    assert 0.8 < area(grown) / area(added) * 30000 / 60000 < 1.25
    files = driver.find_element("id", "file-changes").text
    assert "/app/config.json" in files and "+60.0 kB" in files


@pytest.mark.browser
def test_diff_page_of_the_same_image_in_two_formats(driver, tmp_path):
    page = tmp_path / "same.html"
    p = slimscope("diff", DEMO, DEMO_OCITAR, "--format", "html", "-o", page)
    assert p.returncode == 0, p.stderr
    browser.open_page(driver, page)
    assert browser.errors(driver) == []
    assert stat(driver, "final_bytes") == ("0", "0 Bytes")
    assert "7 shared" in driver.find_element("id", "layer-changes").text
    assert driver.find_element("css selector", "#map .empty").text == "Nothing here: 0 bytes."


@pytest.mark.browser
def test_page_of_an_engine_built_image(engine, driver, tmp_path):
    """chmod-dup, built by the engine: `RUN chmod 600` stores the blob a second time,
    and the waste treemap says so in the metadata-only colour."""
    from tests.support.images import fixture_image  # noqa: PLC0415

    ref = f"docker-daemon:{fixture_image('chmod-dup')}"
    p = slimscope("analyze", ref, "--format", "json", "--files")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    page = tmp_path / "chmod-dup.html"
    p = slimscope("analyze", ref, "--format", "html", "-o", page)
    assert p.returncode == 0, p.stderr
    browser.open_page(driver, page)
    assert browser.errors(driver) == []
    for key in ("final_bytes", "total_bytes", "wasted_bytes"):
        assert stat(driver, key) == (str(doc["totals"][key]), size(doc["totals"][key]))
    assert doc["totals"]["wasted_bytes"] == 204800
    driver.find_element("css selector", '.tree-btn[data-tree="1"]').click()
    wait(driver, lambda: driver.find_elements("css selector", '#map [data-path="/opt/blob.bin"]'))
    assert tile(driver, "/opt/blob.bin").value_of_css_property(
        "background-color") == "rgba(237, 201, 72, 1)"      # metadata-only
    driver.save_screenshot(str(tmp_path / "chmod-dup.png"))
