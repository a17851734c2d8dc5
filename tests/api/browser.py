"""The browser the web UI's tests drive: Debian's Chromium, launched by Playwright.

Playwright's own browser builds are a download that not every machine can make, so the tests use
the system browser that scripts/setup installs. Screenshots land in test-artifacts/screenshots/
at the repo root (gitignored), where a person, or CI's artifacts, can look at what a page showed.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = "CARTWIRE_REQUIRE_BROWSER"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium, or a skip when it is absent on a developer's machine.

    Without the browser a test cannot run, but on CI (scripts/test sets CARTWIRE_REQUIRE_BROWSER)
    a missing browser fails the run instead: a skipped browser suite would pass with no UI tested.
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; scripts/setup installs it (Debian package chromium)"
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{reason}, and {REQUIRE_BROWSER} is set, so browser tests may not skip")
        pytest.skip(reason)
    # No sandbox: the tests run as root in containers, where Chromium's sandbox cannot start.
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
    )


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/NAME.png and return that path.

    Animations are stopped first (a running pip pulses), so the same page gives the same picture.

    The name becomes a file name, so it may hold only letters, digits, '_', '.' and '-'.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"screenshot name {name!r}: use letters, digits, '_', '.' and '-' only "
            "(it becomes a file name)"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path
