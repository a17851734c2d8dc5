"""Flows and runs in the browser against a real `cartwire serve`: run the prebuilt customers
flow from the flows page, watch it finish on its run page (live over server-sent events), see
the records Commerce Layer refused, retry them once it accepts, and filter the history."""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from cartwire.demo import connect_sandboxes
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from tests.api.browser import screenshot
from tests.api.test_ui_pages import log_in
from tests.api.ui_support import Server, serving
from tests.flows.triggers_support import opened_store

CUSTOMERS = "ct-customers-to-cl-customers"
CATALOGUE = Catalogue(seed=5, products=4, customers=6, orders=0)


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory, ct: Sandbox, cl: Sandbox) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui-runs") / "home"
    home.mkdir(parents=True)
    seed(CATALOGUE, ct, cl)
    with opened_store(home) as store:
        connect_sandboxes(store, ct, cl)
    with serving(home, {"admin": "admin"}) as started:
        yield started


def test_a_flow_run_from_the_browser_fails_a_record_and_its_retry_succeeds(
    page: Page, server: Server, cl: Sandbox
) -> None:
    faults = f"{cl.url}/_sandbox/faults"
    refused = {"method": "POST", "path": "/api/customers$", "status": 403, "count": 2}
    httpx.post(faults, json=refused, timeout=10).raise_for_status()
    log_in(page, server, "/flows")
    expect(page.locator("#flows thead")).to_contain_text("Next run")
    screenshot(page, "flows")
    page.locator(f"#flow-{CUSTOMERS}").get_by_role("button", name="Run now").click()
    expect(page.locator("h1")).to_contain_text(CUSTOMERS)
    status = page.locator("#run-status")
    expect(status).to_have_attribute("data-status", "partially succeeded", timeout=60_000)
    expect(page.locator("#count-failed")).to_have_text("2")
    expect(page.locator("#count-created")).to_have_text("4")
    expect(page.locator("#failures tbody tr")).to_have_count(2)
    screenshot(page, "run")
    failed_url = page.url
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    with httpx.stream("GET", f"{failed_url}/events", cookies=cookies, timeout=30) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        stream = "".join(events.iter_text())  # a finished run: its counts, then the end
    assert "event: counts" in stream
    assert 'id="count-failed">2<' in stream
    assert "event: done" in stream

    page.goto(f"{failed_url}?errors=true")
    expect(page.get_by_role("link", name="show every line")).to_be_visible()
    httpx.delete(faults, timeout=10).raise_for_status()
    page.get_by_role("button", name="Retry failed records").click()
    expect(page).not_to_have_url(failed_url)
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-failed")).to_have_text("0")

    page.goto(f"{server.url}/runs?flow={CUSTOMERS}&status=partially+succeeded")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("#flow")).to_have_value(CUSTOMERS)
    page.goto(f"{server.url}/runs?flow={CUSTOMERS}")
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    screenshot(page, "runs")
    page.goto(f"{server.url}/")
    expect(page.locator("#runs-ok")).to_have_text("1")
    expect(page.locator("#records-moved")).to_have_text("6")
