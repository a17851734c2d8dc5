"""`cartwire runs retry`: failed records are read again from the source, never re-sent as the
failed run kept them, so a retry never writes a copy older than what a later run synced."""

import json
from typing import Any

import httpx

from tests.flows.world import World, run_flow
from tests.support import run_cli

CUSTOMERS = "ct-customers-to-cl-customers"
PRODUCTS = "ct-products-to-cl-skus"


def _retry(world: World, run_id: int) -> dict[str, Any]:
    done = run_cli(world.home, "runs", "retry", str(run_id), "--json")
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _ct_update(world: World, resource: str, record: dict[str, Any], *actions: Any) -> None:
    with world.ct_client() as client:
        client.post(
            f"{resource}/{record['id']}",
            json={"version": record["version"], "actions": list(actions)},
        ).raise_for_status()


def _ct_customer(world: World, email: str) -> dict[str, Any]:
    with world.ct_client() as client:
        found = client.get("customers", params={"where": f'email = "{email}"'}).json()
    [customer] = found["results"]
    return dict(customer)


def _cl_first_names(world: World, email: str) -> list[str]:
    """The first names of the Commerce Layer customers with this email ([] for none)."""
    found = world.cl_all("customers", **{"filter[q][email_eq]": email})
    return [c["attributes"]["metadata"]["first_name"] for c in found]


def test_a_retry_after_a_newer_sync_keeps_the_newer_record(world: World) -> None:
    """The reported defect: a customer renamed Quinn → Quinny and synced by a later run went
    back to Quinn when the first run's write failure was retried."""
    # Every customer create fails at Commerce Layer during the first run.
    faults = f"{world.cl.url}/_sandbox/faults"
    fault = {"method": "POST", "path": "/api/customers$", "status": 403, "count": 1000}
    httpx.post(faults, json=fault).raise_for_status()
    first = run_flow(world, CUSTOMERS)
    assert first["failed"] > 2
    httpx.delete(faults).raise_for_status()

    renamed, deleted = [f.record["email"] for f in world.store.run_failures.of(first["run_id"])][:2]
    _ct_update(
        world,
        "customers",
        _ct_customer(world, renamed),
        {"action": "setFirstName", "firstName": "Quinny"},
    )
    gone = _ct_customer(world, deleted)
    with world.ct_client() as client:
        client.delete(f"customers/{gone['id']}", params={"version": gone["version"]})
    second = run_flow(world, CUSTOMERS)
    assert second["status"] == "succeeded"
    assert _cl_first_names(world, renamed) == ["Quinny"]

    world.reset_counters()
    retried = _retry(world, first["run_id"])
    assert _cl_first_names(world, renamed) == ["Quinny"]
    assert retried["status"] == "succeeded", retried
    assert (retried["read"], retried["skipped"]) == (first["failed"], 1)
    assert retried["created"] == retried["updated"] == retried["failed"] == 0
    assert world.writes(world.cl) == 0
    # The customer deleted at the source is reported, not written back.
    assert _cl_first_names(world, deleted) == []
    logs = world.store.run_logs.of(retried["run_id"])
    assert any(line.level == "warning" and gone["id"] in line.message for line in logs), logs


def test_a_mapping_failure_is_retried_from_the_source_as_it_is_now(world: World) -> None:
    """A price that failed in a mapping step (no price list for GBP) and whose amount changed
    at the source since is written with the new amount, even after a later run wrote it."""
    world.store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur", "USD": "usd"})
    first = run_flow(world, PRODUCTS)
    assert first["status"] == "partially succeeded"

    product = next(world.catalogue.products())
    sku = product.variants[0].sku
    with world.ct_client() as client:
        [found] = client.get("products", params={"where": f'key = "{product.key}"'}).json()[
            "results"
        ]
    variants = [found["masterData"]["current"]["masterVariant"]]
    variants += found["masterData"]["current"]["variants"]
    [price] = [
        p
        for v in variants
        if v["sku"] == sku
        for p in v["prices"]
        if p["value"]["currencyCode"] == "GBP"
    ]
    new_amount = price["value"]["centAmount"] + 1234
    money = {**price["value"], "centAmount": new_amount}
    _ct_update(
        world,
        "products",
        found,
        {
            "action": "changePrice",
            "priceId": price["id"],
            "price": {"value": money},
            "staged": False,
        },
    )
    world.store.lookup_tables.replace(
        "currencies-to-price-lists", {"EUR": "eur", "USD": "usd", "GBP": "gbp"}
    )
    second = run_flow(world, PRODUCTS)
    assert second["status"] == "succeeded"

    retried = _retry(world, first["run_id"])
    gbp = [
        p["attributes"]["amount_cents"]
        for p in world.cl_all("prices", **{"filter[q][sku_code_eq]": sku})
        if p["attributes"]["currency_code"] == "GBP"
    ]
    assert gbp == [new_amount]
    assert retried["status"] == "succeeded", retried
    assert retried["failed"] == retried["created"] == retried["updated"] == 0


def test_retrying_a_dry_run_is_refused_and_starts_nothing(world: World) -> None:
    runs = world.store.runs
    world.store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur", "USD": "usd"})
    dry = run_flow(world, PRODUCTS, "--dry-run")
    assert dry["failed"] > 0
    world.reset_counters()

    done = run_cli(world.home, "runs", "retry", str(dry["run_id"]))
    assert done.returncode == 2
    message = done.stderr.replace("\n", " ")
    assert f"run {dry['run_id']} was a dry run" in message
    assert f"cartwire flows run {PRODUCTS}" in message
    assert [r.id for r in runs.recent()] == [dry["run_id"]]
    assert world.writes(world.cl) == 0
    assert world.cl_all("skus") == []


def test_a_retry_whose_lookup_table_is_not_ready_is_refused_and_starts_nothing(
    world: World,
) -> None:
    """As a new run is: a table that cannot be used refuses the retry before a run exists,
    rather than recording a retry run that failed on it."""
    runs = world.store.runs
    world.store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur", "USD": "usd"})
    first = run_flow(world, PRODUCTS)
    assert first["status"] == "partially succeeded"
    # Derived again: now ambiguous.
    world.store.lookup_tables.replace("currencies-to-price-lists", {})
    second = {"name": "B2B", "code": "eur-b2b", "currency_code": "EUR"}
    with world.cl_client() as client:
        client.post(
            "price_lists",
            content=json.dumps({"data": {"type": "price_lists", "attributes": second}}),
            headers={"Content-Type": "application/vnd.api+json"},
        ).raise_for_status()
    world.reset_counters()

    done = run_cli(world.home, "runs", "retry", str(first["run_id"]))
    assert done.returncode == 2, done.stdout + done.stderr
    assert 'lookup table "currencies-to-price-lists" cannot be derived' in done.stderr
    assert [r.id for r in runs.recent()] == [first["run_id"]]
    assert world.writes(world.cl) == 0
