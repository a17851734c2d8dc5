"""The web UI in a browser against a real `cartwire serve`: logging in, the dashboard, the
connector catalogue, and adding an instance through the wizard: a wrong secret refused with
the reason and nothing saved, then the right one saved and operational.

Each page is saved as a screenshot in test-artifacts/screenshots/.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from cartwire.sandbox.manager import Sandbox
from tests.api.browser import screenshot
from tests.api.ui_support import PASSWORD, Server, serving
from tests.flows.triggers_support import opened_store
from tests.sandbox_instances import fields


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui-pages") / "home"
    with serving(home, {"admin": "admin"}) as started:
        yield started


def log_in(page: Page, server: Server, then: str = "/") -> None:
    page.goto(f"{server.url}{then}")
    expect(page).to_have_url(f"{server.url}/login?next={then.replace('/', '%2F')}")
    page.fill("#name", "admin")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{server.url}{then}")


def test_logging_in_leads_to_the_dashboard(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/")
    expect(page.locator("h1")).to_have_text("Log in")
    screenshot(page, "login")
    page.fill("#name", "admin")
    page.fill("#password", "not the password")
    page.click("main button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("Wrong name or password.")
    log_in(page, server)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#runs-ok")).to_have_text("0")
    expect(page.locator("#records-moved")).to_have_text("0")
    screenshot(page, "dashboard")


def test_the_catalogue_shows_each_connectors_auth_fields(page: Page, server: Server) -> None:
    log_in(page, server, "/connectors")
    section = page.locator("#connector-commercetools")
    expect(section.locator("h2")).to_contain_text("commercetools")
    expect(section).to_contain_text("client_secret")
    expect(section).to_contain_text("yes, hidden")
    expect(page.locator("#connector-commercelayer")).to_be_visible()
    screenshot(page, "connectors")


def test_an_instance_is_saved_only_once_its_credentials_work(
    page: Page, server: Server, ct: Sandbox
) -> None:
    log_in(page, server, "/instances")
    expect(page.locator(".empty")).to_have_text("No instances yet.")
    page.click("text=Add an instance")
    page.select_option("#connector", "commercetools")
    page.click("main button[type=submit]")
    expect(page.locator("#field-client_secret")).to_have_attribute("type", "password")
    screenshot(page, "instance_new")

    given = fields(ct)
    wrong = "wrong-" + given["client_secret"]
    page.fill("#name", "shop")
    for key, value in {**given, "client_secret": wrong}.items():
        page.fill(f"#field-{key}", value)
    page.click("text=Test and save")
    expect(page.locator("#failure")).to_contain_text("failed authentication")
    expect(page.locator("#failure")).to_contain_text("nothing was saved")
    expect(page.locator("#field-client_secret")).to_have_value("")
    expect(page.locator("#field-client_id")).to_have_value(given["client_id"])
    assert wrong not in page.content()
    screenshot(page, "instance_new_refused")
    with opened_store(server.home) as store:
        assert store.instances.names() == []

    page.fill("#field-client_secret", given["client_secret"])
    page.click("text=Test and save")
    expect(page).to_have_url(f"{server.url}/instances?added=shop")
    row = page.locator("#instance-shop")
    expect(row).to_contain_text("commercetools")
    row.locator("button", has_text="Test").click()
    expect(row.locator(".test-result")).to_have_attribute("data-status", "operational")
    assert given["client_secret"] not in page.content()
    screenshot(page, "instances")
