"""Headless Chromium (Debian's `chromium` and `chromedriver`, through Selenium) with
axe-core injected into each page, checked at WCAG 2.2 AA."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Where the README's screenshots come from: SCREENSHOTS=docs/screenshots bash scripts/test -k browser
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    driver = shutil.which("chromedriver") or ""
    return browser, driver


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    browser, driver = chromium_paths()
    if not (browser and driver):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are needed for the browser tests (CI=true)")
        pytest.skip("chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1400"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(30)
    chrome.set_script_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


def axe_violations(chrome: webdriver.Chrome) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now."""
    chrome.execute_script(AXE)
    return chrome.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
          .then(r => done(r.violations.map(v => ({id: v.id, help: v.help,
                                                  nodes: v.nodes.map(n => n.target.join(' '))}))))
          .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));
        """,
        WCAG_22_AA,
    )


def accessible(chrome: webdriver.Chrome, name: str = "") -> None:
    """Assert the page passes axe-core; keep a screenshot when asked for them."""
    violations = axe_violations(chrome)
    assert violations == [], violations
    if SCREENSHOTS and name:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        chrome.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))
