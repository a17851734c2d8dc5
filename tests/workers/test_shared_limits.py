"""Limits kept by all workers together: four `cartwire worker` processes on one Redis broker
(which `cartwire worker` then keeps the limits in) running the prebuilt flows that read and
write one Commerce Layer instance at the same time.

What is measured is what the Commerce Layer sandbox saw: its counters (token requests, 429s)
and when each API request arrived, counted per window, never the wall time a run took."""

import json

import httpx

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from cartwire.store.runs import FINISHED
from tests.flows.triggers_support import wait_for
from tests.support import run_cli
from tests.workers.conftest import PAGE, Deployment, seeded

DEADLINE = 600  # seconds the runs may take to end, waiting for limits on a loaded machine
WORKERS = 4
# The prebuilt flows that read or write the Commerce Layer instance, queued at once, so the
# workers send to it side by side (not the stock flow: its stock items need the SKUs that the
# product flow is still writing).
FLOWS = (
    ("ct-products-to-cl-skus", CT_INSTANCE, CL_INSTANCE),
    ("ct-customers-to-cl-customers", CT_INSTANCE, CL_INSTANCE),
    ("cl-customers-to-ct-customers", CL_INSTANCE, CT_INSTANCE),
)
RATE = 8  # requests a second the instance may send, in the second test
# Arrival windows a little shorter than the limit's second: a request reaches the sandbox some
# milliseconds after it took its place in the window, not by the same delay every time.
ARRIVAL_SLACK = 0.25  # seconds


def _admin(cl: Sandbox, method: str, path: str, body: object = None) -> httpx.Response:
    response = httpx.request(method, f"{cl.url}/_sandbox/{path}", json=body, timeout=60)
    response.raise_for_status()
    return response


def _queue_all(deployment: Deployment) -> list[int]:
    runs = []
    for flow, source, destination in FLOWS:
        args = ("flows", "run", flow, "--source", source, "--destination", destination)
        queued = run_cli(deployment.home, *args, "--queue", "--json", env=deployment.env)
        assert queued.returncode == 0, queued.stderr
        runs.append(json.loads(queued.stdout)["run_id"])
    return runs


def _all_ended(store: Store, runs: list[int]) -> bool:
    return all(store.runs.get(run).status in FINISHED for run in runs)


def _run_on_workers(deployment: Deployment, store: Store, cl: Sandbox) -> list[int]:
    """Queue every flow, then, with no token in the store and the counters at zero, start the
    workers (so they all want a token at once) and wait for the runs to end."""
    runs = _queue_all(deployment)
    store.tokens.delete(CL_INSTANCE)
    _admin(cl, "DELETE", "counters")
    deployment.start_workers(WORKERS, "--slice-pages", "1")
    wait_for(lambda: _all_ended(store, runs), DEADLINE, "the queued runs to end")
    return runs


def _failures(store: Store, runs: list[int]) -> list[tuple[str, str, str | None]]:
    ended = [store.runs.get(run) for run in runs]
    return [(run.flow, run.status, run.error) for run in ended if run.status != "succeeded"]


def test_four_workers_keep_the_live_limits_on_one_token(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=31, products=3 * PAGE, customers=2 * PAGE, orders=1)
    with deployment.store() as store:
        seeded(deployment.home, catalogue, ct, cl, store)
        _admin(cl, "PATCH", "config", {"rate_limits": "live"})
        runs = _run_on_workers(deployment, store, cl)

        assert not _failures(store, runs)
        counters = _admin(cl, "GET", "counters").json()
        assert counters["api_requests"] > 0
        assert counters["throttled"] == 0, counters
        assert counters["token_requests"] == 1, counters


def _most_in_a_window(arrivals: list[float], seconds: float) -> int:
    """The most requests that arrived within any `seconds` (each window starting at one)."""
    times = sorted(arrivals)
    most, end = 0, 0
    for start, at in enumerate(times):
        while end < len(times) and times[end] < at + seconds:
            end += 1
        most = max(most, end - start)
    return most


def test_four_workers_together_keep_the_instances_rate_limit(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=32, products=2 * PAGE, customers=PAGE, orders=1)
    with deployment.store() as store:
        seeded(deployment.home, catalogue, ct, cl, store)
        limited = run_cli(
            deployment.home,
            "instances",
            "update",
            CL_INSTANCE,
            "--rate-limit-amount",
            str(RATE),
            "--rate-limit-unit",
            "second",
            "--no-test",
            env=deployment.env,
        )
        assert limited.returncode == 0, limited.stderr
        runs = _run_on_workers(deployment, store, cl)

        assert not _failures(store, runs)
        arrivals = _admin(cl, "GET", "arrivals").json()["arrivals"]
        # Enough requests that four workers each on a budget of its own would have sent
        # several times the rate in some window.
        assert len(arrivals) > 4 * RATE
        assert _most_in_a_window(arrivals, 1.0 - ARRIVAL_SLACK) <= RATE
