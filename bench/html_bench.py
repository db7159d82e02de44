"""The HTML report on (a), the 200,000-file image: how long `analyze --format html`
takes, how big the page is, and how soon headless chromium can use it (the page
sets `window.slimscopeReady` when the treemap is drawn and answers clicks), then
a zoom and a search over every path. Needs chromium, chromedriver and selenium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE_TARGET = 5_000_000      # bytes (issue 17)
READY_TARGET = 2.0           # seconds

_SEARCH = """
const done = arguments[arguments.length - 1], box = document.getElementById('search');
const count = document.getElementById('search-count'), t0 = performance.now();
box.value = arguments[0];
box.dispatchEvent(new Event('input'));
(function poll() {
  if (count.textContent) done([performance.now() - t0, count.textContent]);
  else requestAnimationFrame(poll);
})();
"""
_ZOOM = """
const el = document.querySelector('#map .dir, #map .dirleaf'), t0 = performance.now();
el.click();
return [performance.now() - t0, document.querySelectorAll('#breadcrumb .crumb').length];
"""


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


def missing() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "no chromium on PATH"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH"
    return ""


def open_ready(driver, page: Path, timeout: float = 60) -> float:
    """Seconds from navigation to the page's ready mark, as the page measures it."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready === '1'"))
    return driver.execute_script("return window.slimscopeReady") / 1000


def run(r, imgs) -> dict:
    why = missing()
    if why:
        return {"skipped": f"the HTML bench needs chromium, chromedriver and selenium: {why}"}
    archive = imgs.small_archive()
    tmp = Path(tempfile.mkdtemp(prefix="slimscope-bench-html-"))
    env = dict(os.environ, PYTHONPATH=r.code, XDG_CACHE_HOME=str(tmp / "cache"))
    page = tmp / "report.html"
    try:
        writes = []
        for _ in range(r.repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "slimscope", "analyze", archive, "--format",
                            "html", "-o", str(page), "--no-cache"], check=True, env=env,
                           cwd=r.code, capture_output=True)
            writes.append(time.perf_counter() - t0)
        nbytes = page.stat().st_size
        driver = _driver()
        try:
            ready, zooms, searches = [], [], []
            for _ in range(max(3, r.repeat)):
                ready.append(open_ready(driver, page))
                ms, depth = driver.execute_script(_ZOOM)
                assert depth == 2, "the zoom did not open a directory"
                zooms.append(ms / 1000)
                ms, text = driver.execute_async_script(_SEARCH, "f0001")
                searches.append(ms / 1000)
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        finally:
            driver.quit()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors:
        raise RuntimeError(f"the page logged errors: {errors[:3]}")
    m = {"analyze --format html (no cache)": {"seconds": min(writes), "all_seconds": writes},
         "page ready in chromium": {"seconds": min(ready), "all_seconds": ready},
         "zoom into a directory": {"seconds": min(zooms), "all_seconds": zooms},
         "search every path (incl. the 150 ms typing pause)":
             {"seconds": min(searches), "all_seconds": searches}}
    rows = [
        {"what": "page size", "ratio": nbytes, "value": f"{nbytes / 1e6:.2f} MB",
         "target": SIZE_TARGET, "unit": "B", "ok": nbytes <= SIZE_TARGET},
        {"what": "time to interactive, headless chromium (best of "
                 f"{len(ready)}, worst {max(ready):.2f} s)", "ratio": min(ready),
         "value": f"{min(ready):.2f} s", "target": READY_TARGET, "unit": "s",
         "ok": min(ready) <= READY_TARGET},
        {"what": "zoom into a directory", "ratio": min(zooms) * 1000,
         "value": f"{min(zooms) * 1000:.0f} ms", "target": None, "unit": "ms", "ok": None},
        {"what": f"search ({text}; includes 150 ms typing pause)", "ratio": min(searches) * 1000,
         "value": f"{min(searches) * 1000:.0f} ms", "target": None, "unit": "ms", "ok": None},
        {"what": "write the page (analyze --format html, no cache)", "ratio": min(writes),
         "value": f"{min(writes):.2f} s", "target": None, "unit": "s", "ok": None},
    ]
    return {"measurements": m, "rows": rows}
