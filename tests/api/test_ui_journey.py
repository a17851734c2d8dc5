"""The issue's whole journey in a browser, without a terminal: a person adds both sandbox
instances through the wizard (a wrong secret first), binds the prebuilt product flow to them,
runs it and watches it on its run page while it runs (the run is held at its first source read,
so "running" is seen for sure, then the page follows it over server-sent events to its end),
sees the record Commerce Layer refused, and retries it.

The counts on the page are checked against what Commerce Layer holds afterwards."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.clients import api_client
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from tests.api.browser import screenshot
from tests.api.test_ui_pages import log_in
from tests.api.ui_support import PASSWORD, Server, serving
from tests.flows.triggers_support import wait_for
from tests.sandbox_instances import fields

PRODUCTS = "ct-products-to-cl-skus"
CATALOGUE = Catalogue(seed=11, products=3, customers=0, orders=0)


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory, ct: Sandbox, cl: Sandbox) -> Iterator[Server]:
    seed(CATALOGUE, ct, cl)
    home = tmp_path_factory.mktemp("ui-journey") / "home"
    with serving(home, {"admin": "admin"}) as started:
        yield started


def _add_instance(
    page: Page, server: Server, connector: str, name: str, given: dict[str, str]
) -> None:
    page.goto(f"{server.url}/instances")
    page.click("text=Add an instance")
    page.select_option("#connector", connector)
    page.click("main button[type=submit]")
    page.fill("#name", name)
    for key, value in given.items():
        page.fill(f"#field-{key}", value)
    page.click("text=Test and save")


def _held(sandbox: Sandbox) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{sandbox.url}/_sandbox/held", timeout=10).json()
    return found


def _count(sandbox: Sandbox, resource: str) -> int:
    with api_client(sandbox) as client:
        answer = client.get(resource, params={"page[size]": "1"}).json()
    return int(answer["meta"]["record_count"])


def test_both_instances_added_the_product_flow_run_watched_and_its_failure_retried(
    page: Page, server: Server, ct: Sandbox, cl: Sandbox
) -> None:
    log_in(page, server, "/instances")
    wrong = {**fields(ct), "client_secret": "wrong-" + fields(ct)["client_secret"]}
    _add_instance(page, server, "commercetools", "shop-ct", wrong)
    expect(page.locator("#failure")).to_contain_text("failed authentication")
    page.fill("#field-client_secret", fields(ct)["client_secret"])
    page.click("text=Test and save")
    expect(page).to_have_url(f"{server.url}/instances?added=shop-ct")
    _add_instance(page, server, "commercelayer", "shop-cl", fields(cl))
    expect(page).to_have_url(f"{server.url}/instances?added=shop-cl")
    for name in ("shop-ct", "shop-cl"):
        row = page.locator(f"#instance-{name}")
        expect(row.locator(".last-test")).to_have_attribute("data-status", "operational")
        row.locator("button", has_text="Test").click()
        expect(row.locator(".test-result")).to_have_attribute("data-status", "operational")

    page.goto(f"{server.url}/flows")
    flow = page.locator(f"#flow-{PRODUCTS}")
    expect(flow.locator(".triggers")).to_have_text("manual, schedule */15 * * * *")
    flow.locator(f"#source-{PRODUCTS}").select_option("shop-ct")
    flow.locator(f"#destination-{PRODUCTS}").select_option("shop-cl")
    flow.get_by_role("button", name="Bind").click()
    expect(flow.locator(".binding")).to_contain_text("shop-ct → shop-cl")

    held = {"method": "GET", "path": "/products$", "count": 1, "hold": True}
    httpx.post(f"{ct.url}/_sandbox/faults", json=held, timeout=10).raise_for_status()
    refused = {"method": "POST", "path": "/api/prices$", "status": 422, "count": 1}
    httpx.post(f"{cl.url}/_sandbox/faults", json=refused, timeout=10).raise_for_status()
    flow.get_by_role("button", name="Run now").click()
    expect(page.locator("h1")).to_contain_text(PRODUCTS)
    wait_for(lambda: len(_held(ct)) == 1, 60, "the run's first products read, held")
    status = page.locator("#run-status")
    expect(status).to_have_attribute("data-status", "running")
    expect(page.locator("#cursor-after")).to_have_text("not yet")
    screenshot(page, "run_live")
    httpx.post(f"{ct.url}/_sandbox/release", json={}, timeout=10).raise_for_status()

    # No reload by the test: the stream brings the end, and the page swaps in the finished run.
    expect(status).to_have_attribute("data-status", "partially succeeded", timeout=60_000)
    expect(page.get_by_role("button", name="Retry failed records")).to_be_visible()
    expect(page.locator("#failures tbody tr")).to_have_count(1)
    expect(page.locator("#failures tbody tr")).to_contain_text("prices")
    expect(page.locator("#count-failed")).to_have_text("1")
    expect(page.locator("#failure-kind")).to_have_attribute("data-kind", "data")
    expect(page.locator("#failures .kind")).to_have_text("data")
    expect(page.locator("#step-prices")).to_be_visible()
    expect(page.locator("#cursor-after")).to_have_text("none")
    created = int(page.locator("#count-created").inner_text())
    skus, prices = _count(cl, "skus"), _count(cl, "prices")
    assert created == skus + prices, "every sku, and every price but the refused one"
    expect(page.locator("#step-skus-created")).to_have_text(str(skus))
    screenshot(page, "run")
    first = page.url

    page.get_by_role("button", name="Retry failed records").click()
    expect(page).not_to_have_url(first)
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    expect(page.locator("#count-created")).to_have_text("1")
    expect(page.locator("#count-failed")).to_have_text("0")
    assert _count(cl, "prices") == prices + 1
    retried = page.url

    page.goto(f"{server.url}/flows")
    page.locator(f"#flow-{PRODUCTS}").get_by_role("button", name="Run now").click()
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    expect(page.locator("#count-created")).to_have_text("0")
    expect(page.locator("#cursor-before")).to_have_text("none: read from the start")
    expect(page.locator("#cursor-after")).to_contain_text('"since"')  # the next run starts there

    page.goto(f"{first}?errors=true")
    expect(page.locator("#logs tbody tr")).to_have_count(1)
    expect(page.locator("#logs")).to_contain_text("VALIDATION_ERROR")
    page.goto(f"{first}?lines=1")
    expect(page.locator("#logs tbody tr")).to_have_count(1)
    expect(page.locator("#logs")).to_contain_text("VALIDATION_ERROR")  # the newest line
    page.locator("#log-older").click()
    expect(page.locator("#logs tbody tr")).to_have_count(1)
    expect(page.locator("#logs")).to_contain_text("lookup table currencies-to-price-lists")
    expect(page.locator("#log-older")).to_have_count(0)
    page.locator("#log-newest").click()
    expect(page.locator("#logs")).to_contain_text("VALIDATION_ERROR")

    page.goto(f"{server.url}/runs?instance=shop-cl&trigger=api")  # both "Run now", not the retry
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    expect(page.locator("#instance")).to_have_value("shop-cl")
    page.goto(f"{server.url}/runs?flow={PRODUCTS}&since=2000-01-01")
    expect(page.locator("#runs tbody tr")).to_have_count(3)
    expect(page.locator(f"#run-{retried.rsplit('/', 1)[1]}")).to_contain_text("succeeded")
    page.goto(f"{server.url}/runs?since=2000-01-01&until=2000-01-02")
    expect(page.locator(".empty")).to_have_text("No runs match.")
    answer = page.goto(f"{server.url}/runs?since=yesterday")
    assert answer is not None
    assert answer.status == 422
    expect(page.locator("#refused")).to_contain_text("since: expected a date")

    page.goto(f"{server.url}/")
    expect(page.locator("#runs-ok")).to_have_text("2")
    expect(page.locator("#records-moved")).to_have_text(str(skus + prices + 1))
    expect(page.locator("#failing")).to_have_count(0)

    page.get_by_role("link", name="Access").click()
    expect(page.locator("#users")).to_contain_text("admin")
    screenshot(page, "access")

    secrets = [fields(ct)["client_secret"], wrong["client_secret"], fields(cl)["client_secret"]]
    logs = [path for path in (server.home / "logs").rglob("*") if path.is_file()]
    assert logs, "the server writes its log under $CARTWIRE_HOME/logs"
    for path in [*logs, *server.home.glob("cartwire.db*")]:
        written = path.read_bytes()
        for secret in [*secrets, PASSWORD]:
            assert secret.encode() not in written, f"a secret in clear in {path}"
