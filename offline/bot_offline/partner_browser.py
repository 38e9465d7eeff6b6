"""A partner without Slack at the partner pages, for the demo: in headless Chromium
(Selenium with Debian's `chromium` and `chromedriver`) where they are installed, else over
plain HTTP with `requests`. The same steps either way: open an e-mailed link, fill a form's
fields by name, press a button, follow a link by its words; `heading` is what the page says
(its panel's title, else its h1)."""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urljoin

Fields = dict[str, str | list[str]]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HEADING = re.compile(r'govuk-panel__title">\s*([^<]+?)\s*<|<h1[^>]*>\s*([^<]+?)\s*</h1>')


class PartnerBrowser(Protocol):
    how: str  # "in headless Chromium" or "over plain HTTP"

    def open(self, url: str) -> None: ...
    def send(self, fields: Fields, button: tuple[str, str] | None = None) -> None: ...
    def follow(self, words: str) -> None: ...
    @property
    def heading(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def text(self) -> str: ...


class HttpPartner:
    """The pages over plain HTTP: each form posted to its page with its CSRF token."""

    how = "over plain HTTP"

    def __init__(self) -> None:
        import requests

        self._session = requests.Session()
        self._url, self._html = "", ""

    def _keep(self, response: Any) -> None:
        self._url, self._html = str(response.url), str(response.text)

    def open(self, url: str) -> None:
        self._keep(self._session.get(url, timeout=30))

    def send(self, fields: Fields, button: tuple[str, str] | None = None) -> None:
        token = CSRF.search(self._html)
        data: dict[str, Any] = {"csrf_token": token.group(1) if token else "", **fields}
        if button is not None:
            data[button[0]] = button[1]
        self._keep(self._session.post(self._url, data=data, timeout=30))

    def follow(self, words: str) -> None:
        for href, shown in re.findall(r'<a class="govuk-link" href="([^"]+)">([^<]+)', self._html):
            if words in html.unescape(shown):
                self.open(urljoin(self._url, href))
                return
        raise LookupError(f"no link saying {words!r} on {self._url}")

    @property
    def heading(self) -> str:
        found = HEADING.search(self._html)
        return html.unescape(found.group(1) or found.group(2)) if found else ""

    @property
    def url(self) -> str:
        return self._url

    @property
    def text(self) -> str:
        return self._html


class ChromiumPartner:
    """The pages in headless Chromium: fields typed, radios and boxes clicked by their labels."""

    how = "in headless Chromium"

    def __init__(self, chrome: Any) -> None:
        self._chrome = chrome

    def _after(self, click: Any) -> None:
        """Click, then wait until the next page has replaced this one."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        page = self._chrome.find_element(By.TAG_NAME, "html")
        click()
        WebDriverWait(self._chrome, 30).until(expected_conditions.staleness_of(page))

    def open(self, url: str) -> None:
        self._chrome.get(url)

    def send(self, fields: Fields, button: tuple[str, str] | None = None) -> None:
        from selenium.webdriver.common.by import By

        find = self._chrome.find_element
        for name, value in fields.items():
            for one in value if isinstance(value, list) else [value]:
                choice = self._chrome.find_elements(By.CSS_SELECTOR, f'input[name="{name}"][value="{one}"]')
                if choice:  # a radio or a box: the person clicks its label
                    find(By.CSS_SELECTOR, f'label[for="{choice[0].get_attribute("id")}"]').click()
                    continue
                box = find(By.CSS_SELECTOR, f'[name="{name}"]')
                box.clear()
                box.send_keys(one)
        pressed = (
            f'form button[name="{button[0]}"][value="{button[1]}"]'
            if button
            else "form button.govuk-button, form input.govuk-button"
        )
        self._after(find(By.CSS_SELECTOR, pressed).click)

    def follow(self, words: str) -> None:
        from selenium.webdriver.common.by import By

        self._after(self._chrome.find_element(By.PARTIAL_LINK_TEXT, words).click)

    @property
    def heading(self) -> str:
        from selenium.webdriver.common.by import By

        found = self._chrome.find_elements(By.CSS_SELECTOR, ".govuk-panel__title, h1")
        return str(found[0].text).strip() if found else ""

    @property
    def url(self) -> str:
        return str(self._chrome.current_url)

    @property
    def text(self) -> str:
        return str(self._chrome.page_source)


def chromium_installed() -> bool:
    """Chromium, its driver and Selenium are all here."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    return bool(browser and shutil.which("chromedriver"))


@contextmanager
def partner_browser(prefer: str | None = None) -> Iterator[PartnerBrowser]:
    """Headless Chromium when it is installed, else plain HTTP; closed afterwards.
    DEMO_BROWSER=http (or `prefer="http"`) takes plain HTTP even where Chromium is."""
    prefer = prefer if prefer is not None else os.environ.get("DEMO_BROWSER", "")
    if prefer == "http" or not chromium_installed():
        yield HttpPartner()
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1400"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield ChromiumPartner(chrome)
    finally:
        chrome.quit()
