"""The prebuilt flows, end to end between the two sandboxes, through the real CLI."""

import json
import socket
from collections import Counter
from pathlib import Path

import httpx

from cartwire.demo import CL_INSTANCE, CT_INSTANCE, FLOWS
from tests.flows.world import World, run_flow
from tests.recorded_runs import held_run
from tests.support import run_cli

SUMMARY_KEYS = {"run_id", "status", "read", "created", "updated", "unchanged", "skipped", "failed"}
SUMMARY_KEYS |= {"dry_run", "limit", "failure_kind", "retryable"}


def test_all_prebuilt_flows_then_nothing_to_do(world: World) -> None:
    first = {name: run_flow(world, name) for name, _, _ in FLOWS}
    for name, result in first.items():
        assert set(result) == SUMMARY_KEYS
        assert result["status"] == "succeeded", (name, result)
        assert result["failed"] == 0

    variants = [v for p in world.catalogue.products() for v in p.variants]
    skus = world.cl_all("skus")
    assert sorted(s["attributes"]["code"] for s in skus) == sorted(v.sku for v in variants)
    prices = world.cl_all("prices", include="price_list")
    assert len(prices) == 3 * len(variants)
    expected = {(v.sku, cur): cents for v in variants for cur, cents in v.prices.items()}
    lists = {"eur": "EUR", "usd": "USD", "gbp": "GBP"}
    with world.cl_client() as client:
        codes = {p["id"]: p["attributes"]["code"] for p in client.get("price_lists").json()["data"]}
    for price in prices:
        attributes = price["attributes"]
        currency = lists[codes[price["relationships"]["price_list"]["data"]["id"]]]
        assert expected[(attributes["sku_code"], currency)] == attributes["amount_cents"]
    stock = world.cl_all("stock_items")
    assert len(stock) == 2 * len(variants)

    with world.ct_client() as client:
        imported = client.get("orders", params={"where": 'orderNumber like "CL-%"', "limit": 500})
        placed = world.cl_all("orders", **{"filter[q][status_eq]": "placed"})
        numbers = [
            o["orderNumber"] for o in client.get("orders", params={"limit": 500}).json()["results"]
        ]
    assert imported.status_code in (200, 400)
    cl_numbers = [o["attributes"]["number"] for o in placed]
    assert Counter(n for n in numbers if n in cl_numbers) == Counter(cl_numbers)

    # Run again: incremental, and every record is already where it belongs.
    world.reset_counters()
    for name, _, _ in FLOWS:
        again = run_flow(world, name)
        assert again["status"] == "succeeded"
        assert again["created"] == again["updated"] == again["failed"] == 0, (name, again)
    assert world.writes(world.ct) == 0
    assert world.writes(world.cl) == 0


def test_the_demo_stores_no_lookup_table_the_flows_derive_theirs(world: World) -> None:

    assert world.store.lookup_tables.sizes() == {}
    for name, note in (
        (
            "ct-products-to-cl-skus",
            "lookup table currencies-to-price-lists: 3 entries derived from sandbox-cl's "
            "price_lists",
        ),
        (
            "ct-inventory-to-cl-stock",
            "lookup table channels-to-stock-locations: 2 entries derived from sandbox-cl's "
            "stock_locations",
        ),
    ):
        result = run_flow(world, name)
        assert (result["status"], result["failed"]) == ("succeeded", 0), name
        shown = run_cli(world.home, "runs", "show", str(result["run_id"]), "--json").stdout
        assert note in [line["message"] for line in json.loads(shown)["logs"]]


def test_dry_run_writes_nothing(world: World) -> None:
    world.reset_counters()
    result = run_flow(world, "ct-products-to-cl-skus", "--dry-run")
    assert result["created"] > 0
    assert world.writes(world.cl) == 0
    assert world.cl_all("skus") == []


def test_a_failing_record_is_kept_and_retried(world: World) -> None:
    # Prices need their price list: without the lookup entry for GBP those prices fail.

    world.store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur", "USD": "usd"})
    result = run_flow(world, "ct-products-to-cl-skus")
    assert result["status"] == "partially succeeded"
    assert result["failed"] > 0
    shown = json.loads(run_cli(world.home, "runs", "show", str(result["run_id"]), "--json").stdout)
    assert len(shown["failures"]) == result["failed"]
    assert "currencies-to-price-lists" in shown["failures"][0]["message"]

    world.store.lookup_tables.replace(
        "currencies-to-price-lists", {"EUR": "eur", "USD": "usd", "GBP": "gbp"}
    )
    done = run_cli(world.home, "runs", "retry", str(result["run_id"]), "--json")
    retried = json.loads(done.stdout)
    assert retried["status"] == "succeeded", done.stderr
    assert retried["read"] == result["read"]  # every product had a GBP price: each read again
    gbp = [p for p in world.cl_all("prices") if p["attributes"]["currency_code"] == "GBP"]
    assert len(gbp) == sum(len(p.variants) for p in world.catalogue.products())


def test_a_retry_run_that_died_is_resumed_with_the_failed_records(world: World) -> None:

    runs = world.store.runs
    world.store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur", "USD": "usd"})
    failed = run_flow(world, "ct-products-to-cl-skus")
    assert failed["status"] == "partially succeeded"
    world.store.lookup_tables.replace(
        "currencies-to-price-lists", {"EUR": "eur", "USD": "usd", "GBP": "gbp"}
    )
    # a `runs retry` whose process died before it committed anything
    original = runs.get(failed["run_id"])
    dead = runs.start(
        flow=original.flow,
        version=original.flow_version,
        text=original.flow_text,
        trigger="retry",
        source=original.source,
        destination=original.destination,
        full=False,
        dry_run=False,
        owner=f"{socket.gethostname()}:999999999:0",  # no such process
        retry_of=original.id,
    )
    done = run_cli(world.home, "runs", "resume", str(dead.id), "--json")
    resumed = json.loads(done.stdout)
    assert (resumed["run_id"], resumed["status"]) == (dead.id, "succeeded"), done.stderr
    assert resumed["read"] == failed["read"]
    gbp = [p for p in world.cl_all("prices") if p["attributes"]["currency_code"] == "GBP"]
    assert len(gbp) == sum(len(p.variants) for p in world.catalogue.products())


def test_one_run_per_binding(world: World) -> None:

    busy = held_run(world.store.runs, "ct-products-to-cl-skus", CT_INSTANCE, CL_INSTANCE)
    done = run_cli(
        world.home,
        "flows",
        "run",
        "ct-products-to-cl-skus",
        "--source",
        CT_INSTANCE,
        "--destination",
        CL_INSTANCE,
    )
    assert done.returncode == 1
    assert f"run {busy.id} of this flow binding is running" in done.stderr


def test_validate_reports_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nsource: {connector: commercetools, endpoint: products}\n"
        "destination: {connector: commercelayer, endpoint: prices}\n"
        "steps:\n  - map:\n      fields:\n        amount_cents: {from: x, transform: [centz]}\n"
    )
    done = run_cli(tmp_path, "flows", "validate", str(bad))
    assert done.returncode == 2
    assert 'steps[0].map.fields.amount_cents.transform[0]: unknown transform "centz"; did you ' in (
        done.stderr.replace("\n", "")
    )


def test_flow_needs_bound_instances(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "flows", "run", "ct-inventory-to-cl-stock")
    assert done.returncode == 2
    assert "give --source and --destination" in done.stderr.replace("\n", " ")


def test_sandbox_counters_helper_is_honest(world: World) -> None:
    world.reset_counters()
    httpx.get(f"{world.cl.url}/_sandbox/health")
    assert world.writes(world.cl) == 0


def test_a_stopped_first_run_leaves_no_cursor_to_skip_from(world: World) -> None:
    """Pages of a first run come in id order, not time order: a fresh run after a stopped one
    must not start from a time the stopped run happened to see (nothing may be skipped)."""
    import yaml

    from cartwire.flows.catalog import find
    from cartwire.flows.progress import Update
    from cartwire.flows.runner import FlowRunner
    from cartwire.flows.validation import load_flow
    from cartwire.services.clients import opener

    document = yaml.safe_load(find("ct-products-to-cl-skus").text)
    document["source"]["page_size"] = 10
    text = yaml.safe_dump(document)
    runs = world.store.runs
    runner = FlowRunner(
        world.store, load_flow(text), text, CT_INSTANCE, CL_INSTANCE, open=opener(world.store)
    )
    started: list[int] = []

    def stop_after_the_first_page(update: Update) -> None:
        if update.event == "page":
            runs.request_stop(started[0])

    stopped = runner.run(
        on_start=lambda run: started.append(run.id), progress=stop_after_the_first_page
    )
    assert stopped.status == "stopped"
    assert world.store.cursors.get("ct-products-to-cl-skus", CT_INSTANCE, CL_INSTANCE) is None
    finished = runner.run()
    assert finished.status == "succeeded"
    variants = [v for p in world.catalogue.products() for v in p.variants]
    assert len(world.cl_all("skus")) == len(variants)
    assert world.store.cursors.get("ct-products-to-cl-skus", CT_INSTANCE, CL_INSTANCE) is not None
