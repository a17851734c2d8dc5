"""Runs started in the background, as the HTTP server starts them: each call returns once the
run is recorded (or raises why it could not start, as the CLI would), and the run goes on in a
thread of this process. Real sandboxes, real SQLite."""

import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cartwire.services import errors
from cartwire.services.context import Services
from cartwire.services.runs import RunView
from tests.flows.triggers_support import channels_flow, write_flow
from tests.flows.world import World
from tests.recorded_runs import held_run

PRODUCTS = "ct-products-to-cl-skus"
CUSTOMERS = "ct-customers-to-cl-customers"
CT, CL = "sandbox-ct", "sandbox-cl"
SETTLED = 240.0  # seconds: only a hung run takes this long (the test would fail, not pass)


@pytest.fixture
def services(world: World) -> Iterator[Services]:
    services = Services(world.store)
    yield services
    assert services.starter.join(SETTLED)  # no run of a test outlives it


def _ended(services: Services, run: RunView) -> RunView:
    """The run once every run the starter started has ended."""
    assert services.starter.join(SETTLED)
    return services.runs.get(run.id)


def _ct_customers(world: World) -> list[dict[str, Any]]:
    with world.ct_client() as client:
        found: list[dict[str, Any]] = client.get("customers").json()["results"]
    return found


def _cl_emails(world: World) -> set[str]:
    return {c["attributes"]["email"] for c in world.cl_all("customers")}


def test_a_prebuilt_flow_runs_in_the_background(services: Services, world: World) -> None:
    started = services.starter.start(PRODUCTS)
    assert (started.flow, started.trigger, started.source, started.destination) == (
        PRODUCTS,
        "api",
        CT,
        CL,
    )
    assert started.status in ("running", "succeeded")
    ended = _ended(services, started)
    assert ended.status == "succeeded", ended.error
    assert ended.counts["read"] == 8
    variants = sum(len(product.variants) for product in world.catalogue.products())
    assert len(world.cl_all("skus")) == variants  # one sku per variant

    dry = _ended(services, services.starter.start(PRODUCTS, full=True, dry_run=True, limit=3))
    assert (dry.status, dry.dry_run, dry.limit, dry.counts["read"]) == ("succeeded", True, 3, 3)


def test_a_run_is_refused_before_it_starts_as_on_the_command_line(
    services: Services, world: World
) -> None:
    runs = world.store.runs
    going = held_run(runs, PRODUCTS, CT, CL)
    with pytest.raises(errors.RunBusy, match=f"run {going.id} of this flow binding is running"):
        services.starter.start(PRODUCTS)
    runs.finish(going.id, "stopped")

    # By name only: a path from a request is never read.
    file = write_flow(world.home, "unbound", channels_flow("unbound", "manual"))
    with pytest.raises(errors.FlowNotFound, match="no flow named"):
        services.starter.start(str(file))
    # A flow without a binding, with the message `flows run` gives.
    with pytest.raises(errors.FlowError) as by_cli:
        services.flows.prepare_run("unbound")
    with pytest.raises(errors.FlowError) as in_background:
        services.starter.start("unbound")
    assert str(in_background.value) == str(by_cli.value)
    with pytest.raises(errors.InstanceNotFound, match="nowhere"):
        services.starter.start(PRODUCTS, destination="nowhere")
    with pytest.raises(ValueError, match="limit: applies to reading the source"):
        services.starter.start(CUSTOMERS, records=[], limit=5)
    assert [run.id for run in runs.recent()] == [going.id]  # nothing else was recorded


def test_a_payload_runs_like_a_webhooks(services: Services, world: World) -> None:
    given = _ct_customers(world)[:2]
    before = _cl_emails(world)
    started = services.starter.start(CUSTOMERS, records=given)
    ended = _ended(services, started)
    assert (ended.status, ended.trigger) == ("succeeded", "api"), ended.error
    assert (ended.counts["read"], ended.counts["created"]) == (2, 2)
    assert _cl_emails(world) - before == {c["email"] for c in given}


def test_a_payload_run_whose_process_died_resumes_with_its_records(
    services: Services, world: World
) -> None:
    given = _ct_customers(world)[:1]
    before = _cl_emails(world)
    flow = services.flows.get_by_name(CUSTOMERS)
    # Left `running` by a process that is gone: this host, this pid number, another start time.
    dead = f"{socket.gethostname()}:{os.getpid()}:0"
    run = world.store.runs.start(
        flow=CUSTOMERS,
        version=flow.flow.version,
        text=flow.text,
        trigger="api",
        source=CT,
        destination=CL,
        full=False,
        dry_run=False,
        owner=dead,
        inputs=given,
    )
    resumed = services.starter.resume(run.id)
    assert resumed.status == "running"  # claimed before the call returned
    ended = _ended(services, resumed)
    assert ended.status == "succeeded", ended.error
    # Its one record written again, not the source read: it was a run of given records.
    assert (ended.counts["read"], ended.counts["created"]) == (1, 1)
    assert _cl_emails(world) - before == {given[0]["email"]}


def test_a_retry_in_the_background_writes_what_failed(services: Services, world: World) -> None:
    faults = f"{world.cl.url}/_sandbox/faults"
    fault = {"method": "POST", "path": "/api/customers$", "status": 403, "count": 1000}
    httpx.post(faults, json=fault).raise_for_status()
    first = _ended(services, services.starter.start(CUSTOMERS))
    assert first.counts["failed"] == 4
    httpx.delete(faults).raise_for_status()

    retrying = services.starter.retry(first.id)
    assert (retrying.trigger, retrying.retry_of) == ("retry", first.id)
    retried = _ended(services, retrying)
    assert retried.status == "succeeded", retried.error
    assert (retried.counts["read"], retried.counts["created"]) == (4, 4)
    assert {c["email"] for c in _ct_customers(world)} <= _cl_emails(world)
