"""Runs on real `cartwire worker` processes, with the store on PostgreSQL and the queue on
Redis: the prebuilt product flow queued on two workers ends as it does in-process, a slice at a
time, and a slice delivered twice doubles nothing."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.services.queue import SliceSender, celery_app
from cartwire.store import Store
from cartwire.store.runs import FINISHED, Run
from tests.flows.triggers_support import wait_for
from tests.flows.world import World
from tests.support import run_cli
from tests.workers.conftest import FLOW, PAGE, Deployment, seeded

PRODUCTS = 3 * PAGE  # three pages: three slices of one page each
DEADLINE = 300  # seconds a queued run may take to end, on a loaded machine
RUN = ("flows", "run", FLOW, "--source", CT_INSTANCE, "--destination", CL_INSTANCE, "--json")
COUNTS = ("read", "created", "updated", "unchanged", "skipped", "failed")


def _destination(world: World) -> dict[str, Any]:
    """What the flow wrote to Commerce Layer, without what differs between two loads of the
    same data (ids, timestamps)."""

    def kept(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record["attributes"].items() if not k.endswith("_at")}

    skus = sorted((kept(s) for s in world.cl_all("skus")), key=lambda s: s["code"])
    prices = sorted(
        (kept(p) for p in world.cl_all("prices")),
        key=lambda p: (p["sku_code"], p["currency_code"]),
    )
    return {"skus": skus, "prices": prices}


def _ended(store: Store, run_id: int) -> Run | None:
    run = store.runs.get(run_id)
    return run if run.status in FINISHED else None


def _slices(store: Store, run_id: int) -> list[str]:
    return [line.message for line in store.run_logs.of(run_id) if line.message.startswith("slice")]


def _reset(*sandboxes: Sandbox) -> None:
    for sandbox in sandboxes:
        httpx.post(f"{sandbox.url}/_sandbox/reset", timeout=30).raise_for_status()


def test_a_queued_run_on_two_workers_ends_as_the_same_run_in_process(
    tmp_path: Path, deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=11, products=PRODUCTS, customers=2, orders=1)
    # In-process first: the same home, its store on SQLite, no broker.
    here = {"CARTWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'here.db'}", "CARTWIRE_BROKER_URL": ""}
    with Store.open(here["CARTWIRE_DATABASE_URL"]) as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        done_here = run_cli(deployment.home, *RUN, env=here)
        assert done_here.returncode == 0, done_here.stderr
        in_process = json.loads(done_here.stdout)
        expected = _destination(world)
    assert expected["skus"]
    assert expected["prices"]

    _reset(ct, cl)
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        deployment.start_workers(2, "--slice-pages", "1")
        queued = run_cli(deployment.home, *RUN, "--queue", env=deployment.env)
        assert queued.returncode == 0, queued.stderr
        sent = json.loads(queued.stdout)
        assert sent["status"] == "queued"
        run = wait_for(lambda: _ended(store, sent["run_id"]), DEADLINE, "the queued run to end")

        assert run.status == "succeeded", (run.error, _slices(store, run.id))
        assert {k: run.counts[k] for k in COUNTS} == {k: in_process[k] for k in COUNTS}
        assert _destination(world) == expected
        slices = _slices(store, run.id)
        assert [line.split()[1] for line in slices] == ["0", "1", "2"], slices
        assert run.slice_no == 2  # handed over twice


def test_a_slice_delivered_twice_doubles_nothing(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=12, products=PRODUCTS, customers=2, orders=1)
    variants = [v for p in catalogue.products() for v in p.variants]
    prices = [(v.sku, currency) for v in variants for currency in v.prices]
    send = SliceSender(celery_app(deployment.env["CARTWIRE_BROKER_URL"]))
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        queued = run_cli(deployment.home, *RUN, "--queue", env=deployment.env)
        assert queued.returncode == 0, queued.stderr
        run_id = json.loads(queued.stdout)["run_id"]
        send(run_id, 0)  # the first slice's message, a second time, before any worker is up
        deployment.start_workers(2, "--slice-pages", "1")
        run = wait_for(lambda: _ended(store, run_id), DEADLINE, "the queued run to end")
        assert run.status == "succeeded", run.error

        skipped = [line for line in _slices(store, run_id) if "skipped" in line]
        assert len(skipped) == 1, _slices(store, run_id)
        assert skipped[0].startswith("slice 0 skipped")
        assert (run.counts["read"], run.counts["failed"]) == (PRODUCTS, 0)
        assert run.counts["created"] == len(variants) + len(prices)  # each record once
        codes = Counter(s["attributes"]["code"] for s in world.cl_all("skus"))
        assert codes == Counter(v.sku for v in variants)
        pairs = Counter(
            (p["attributes"]["sku_code"], p["attributes"]["currency_code"])
            for p in world.cl_all("prices")
        )
        assert pairs == Counter(prices)

        send(run_id, run.slice_no)  # the last slice's message again, after the run ended
        wait_for(
            lambda: len([m for m in _slices(store, run_id) if "skipped" in m]) == 2,
            DEADLINE,
            "the late copy to be refused",
        )
        assert store.runs.get(run_id).counts == run.counts
