"""The browser stack works from a fresh machine: Chromium launches, loads a page over loopback
HTTP, runs its JavaScript on a click, and a screenshot of it is saved."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.api.browser import screenshot
from tests.api.loopback import Body, serve

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>smoke</title></head>
<body>
  <button id="go" onclick="document.getElementById('out').textContent = 'clicked'">Go</button>
  <p id="out">waiting</p>
</body></html>
"""


def test_chromium_runs_a_pages_javascript_and_screenshots_it(page: Page) -> None:
    with serve({"/": Body("text/html; charset=utf-8", PAGE)}) as url:
        page.goto(url)
        expect(page.locator("#out")).to_have_text("waiting")

        page.click("#go")

        expect(page.locator("#out")).to_have_text("clicked")
        path = screenshot(page, "browser-smoke")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_screenshot_name_that_is_not_a_file_name_is_refused(page: Page) -> None:
    with pytest.raises(ValueError, match=re.escape("screenshot name '../x'")):
        screenshot(page, "../x")
