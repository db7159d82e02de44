"""The README's picture of the HTML report, made with the browser the tests drive:
`python -m tests.functional.screenshot docs/html-report.png` (needs chromium,
chromedriver and selenium; see browser.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.functional import browser
from tests.support.engine import REPO_ROOT


def main(out: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "slimscope", "analyze",
                        str(REPO_ROOT / "sample-images" / "demo.tar"), "--format", "html",
                        "-o", str(page)], check=True, cwd=REPO_ROOT)
        d = browser.start(1280, 1120)
        try:
            from selenium.webdriver import ActionChains  # noqa: PLC0415
            from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

            browser.open_page(d, page)
            # Inside /app, where the demo's layers and waste are; hover one file.
            d.find_element("css selector", '#map [data-path="/app"] > span').click()
            d.find_element("id", "search").send_keys("libdemo")
            WebDriverWait(d, 5).until(lambda d: d.find_element("id", "search-count").text)
            tile = d.find_element("css selector", '#map [data-path="/app/lib/libdemo-later.so.1"]')
            ActionChains(d).move_to_element(tile).perform()
            d.save_screenshot(out)
        finally:
            d.quit()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/html-report.png")
