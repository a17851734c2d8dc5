"""Browser fixtures for the web UI's tests: one Chromium per session, a fresh page per test.

Playwright's sync API runs its own event loop, so these fixtures and the tests using them must
not run inside an asyncio loop (plain pytest tests are fine).
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.api.browser import launch


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the tests/api package (starting it costs about a second). Not for
    the whole session: Playwright's sync API keeps an event loop running while it is open, and
    every later `asyncio.run()` (tests/auth) would then fail."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a new context, so no test sees another's cookies or storage.

    The viewport is fixed so screenshots of the same page come out the same size.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()
