"""A slice taken over with a newer fencing token, in this process against PostgreSQL and the
sandboxes (no queue): the holder it was taken from writes its page again, idempotently, but
commits nothing, and the run ends with every record counted and written once."""

import socket
from collections import Counter
from pathlib import Path

import pytest

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.flows.catalog import find
from cartwire.flows.runner import FlowRunner
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.services.clients import opener
from cartwire.services.slices import SliceBudget, process_slice
from cartwire.store import Store
from cartwire.store.runs import LeaseLost
from tests.workers.conftest import FLOW, PAGE, seeded

DEAD = f"{socket.gethostname()}:999999999:0"  # no such process: a worker presumed lost


def test_a_slice_taken_over_with_a_newer_token_commits_nothing(
    tmp_path: Path, pg_url: str, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=13, products=3 * PAGE, customers=2, orders=1)
    variants = [v for p in catalogue.products() for v in p.variants]
    prices = [(v.sku, currency) for v in variants for currency in v.prices]
    with Store.open(pg_url) as store:
        world = seeded(tmp_path, catalogue, ct, cl, store)
        flow_file = find(FLOW)
        runner = FlowRunner(
            store, flow_file.flow, flow_file.text, CT_INSTANCE, CL_INSTANCE, open=opener(store)
        )
        run = runner.queue()
        lost = store.runs.take_slice(run.id, 0, DEAD)  # a worker took slice 0 and went quiet
        sent: list[int] = []

        def send(run_id: int, number: int) -> None:
            assert run_id == run.id
            sent.append(number)

        one_page = SliceBudget(pages=1)
        # Slice 0's message again, on a live worker: it takes the run over, newer token.
        assert process_slice(store, run.id, 0, send, one_page) == "handed over"
        first = store.runs.get(run.id)
        assert first.lease_token == lost.lease_token + 1
        assert first.counts["read"] == PAGE

        # The quiet worker was only slow: it reads and writes its page again, commits nothing.
        stale = FlowRunner.from_run(store, lost, opener(store))
        with pytest.raises(LeaseLost):
            stale.slice(lost, lambda _pages: False)
        assert store.runs.get(run.id).counts == first.counts

        outcome = ""
        while sent:
            outcome = process_slice(store, run.id, sent.pop(0), send, one_page)
        done = store.runs.get(run.id)
        assert (outcome, done.status) == ("succeeded", "succeeded")
        assert (done.counts["read"], done.counts["failed"]) == (3 * PAGE, 0)
        assert done.counts["created"] == len(variants) + len(prices)
        codes = Counter(s["attributes"]["code"] for s in world.cl_all("skus"))
        assert codes == Counter(v.sku for v in variants)
        pairs = Counter(
            (p["attributes"]["sku_code"], p["attributes"]["currency_code"])
            for p in world.cl_all("prices")
        )
        assert pairs == Counter(prices)


def test_a_next_slice_the_broker_refuses_leaves_the_run_to_resume(
    tmp_path: Path, pg_url: str, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=14, products=2 * PAGE, customers=2, orders=1)
    with Store.open(pg_url) as store:
        seeded(tmp_path, catalogue, ct, cl, store)
        flow_file = find(FLOW)
        runner = FlowRunner(
            store, flow_file.flow, flow_file.text, CT_INSTANCE, CL_INSTANCE, open=opener(store)
        )
        run = runner.queue()

        def broker_down(_run_id: int, _number: int) -> None:
            raise ConnectionError("broker down")

        assert process_slice(store, run.id, 0, broker_down, SliceBudget(pages=1)) == "interrupted"
        left = store.runs.get(run.id)
        assert (left.status, left.counts["read"]) == ("interrupted", PAGE)
        assert "slice 1 could not be queued" in store.run_logs.of(run.id)[-1].message

        resumed = FlowRunner.from_run(store, left, opener(store)).resume(run.id)
        assert (resumed.status, resumed.counts["read"]) == ("succeeded", 2 * PAGE)


def test_a_cut_whose_shards_the_broker_refuses_is_sent_again_by_the_sweep(
    tmp_path: Path, pg_url: str, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=15, products=2 * PAGE, customers=2, orders=1)
    with Store.open(pg_url) as store:
        seeded(tmp_path, catalogue, ct, cl, store)
        flow_file = find(FLOW)
        runner = FlowRunner(
            store, flow_file.flow, flow_file.text, CT_INSTANCE, CL_INSTANCE, open=opener(store)
        )
        run = runner.queue()

        def broker_down(_run_id: int, _number: int) -> None:
            raise ConnectionError("broker down")

        in_two = SliceBudget(pages=1, shards=2, shard_records=1)
        assert process_slice(store, run.id, 0, broker_down, in_two) == "interrupted"
        assert store.runs.get(run.id).status == "interrupted"
        assert [s.status for s in store.runs.shards(run.id)] == ["queued", "queued"]
        assert "first slice could not be queued" in store.run_logs.of(run.id)[-1].message

        sent: list[tuple[int, int]] = []
        assert store.runs.requeue_lost(lambda *message: sent.append(message)) == [run.id]
        assert sorted(sent) == [(s.id, 0) for s in store.runs.shards(run.id)]
        while sent:
            process_slice(store, *sent.pop(0), lambda *message: sent.append(message), in_two)
        done = store.runs.get(run.id)
        assert (done.status, done.counts["read"]) == ("succeeded", 2 * PAGE)
