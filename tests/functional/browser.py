"""Debian's chromium, driven headless through Selenium and chromedriver, for the
tests that must see a page as a browser shows it. Missing locally: the tests skip
and say what to install; under CI=true they fail, since CI must install it."""

from __future__ import annotations

import shutil

import pytest

from tests.support.engine import in_ci

INSTALL = "apt-get install -y chromium chromium-driver && pip install 'selenium>=4.10,<5'"
BINARIES = ("chromium", "chromium-browser", "google-chrome")


def _missing() -> str:
    try:
        import selenium  # noqa: F401, PLC0415
    except ImportError:
        return "selenium is not installed"
    if not any(shutil.which(b) for b in BINARIES):
        return "no chromium binary on PATH"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH"
    return ""


def start(width: int = 1400, height: int = 1000):
    """A headless chromium session that keeps the console log; skip/fail when absent."""
    why = _missing()
    if why:
        msg = f"browser tests need chromium, chromedriver and selenium: {why} ({INSTALL})"
        if in_ci():
            pytest.fail(msg + " (CI=true: the browser is required)", pytrace=False)
        pytest.skip(msg)
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    opts = webdriver.ChromeOptions()
    opts.binary_location = next(shutil.which(b) for b in BINARIES if shutil.which(b))
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


def errors(driver) -> list:
    """The console's errors and warnings since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def open_page(driver, path, timeout: float = 10.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready === '1'"))
