"""`/metrics` as the service layer renders it, parsed back with prometheus_client's own parser:
runs and records from the store, and this process's requests per instance (real sandboxes; a
429 is a sandbox fault)."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cartwire.services.context import Services
from tests.flows.world import World

CT, CL = "sandbox-ct", "sandbox-cl"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(services: Services) -> Samples:
    """Every sample by (name, labels)."""
    body, content_type = services.metrics()
    assert content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _rise(before: Samples, after: Samples, name: str, instance: str) -> float:
    return _value(after, name, instance=instance) - _value(before, name, instance=instance)


def test_runs_records_and_requests_after_a_run(world: World) -> None:
    services = Services(world.store)
    before = _scrape(services)
    assert _value(before, "cartwire_runs", status="succeeded") == 0  # every status, no run yet
    assert _value(before, "cartwire_runs", status="interrupted") == 0
    assert ("cartwire_runs", (("status", "interrupted"),)) in before
    assert _value(before, "cartwire_records_total", outcome="read") == 0

    run = services.flows.prepare_run("ct-products-to-cl-skus").run()
    assert run.status == "succeeded", run.error
    after = _scrape(services)
    assert _value(after, "cartwire_runs", status="succeeded") == 1
    for outcome, count in run.counts.items():
        assert _value(after, "cartwire_records_total", outcome=outcome) == count, outcome
    for instance in (CT, CL):
        assert _rise(before, after, "cartwire_api_requests_total", instance) > 0
        # A fresh store holds no token yet: the run asked each instance for one.
        assert _rise(before, after, "cartwire_token_requests_total", instance) >= 1
        assert _rise(before, after, "cartwire_api_throttled_total", instance) == 0


def test_a_429_counts_as_throttled(world: World) -> None:
    services = Services(world.store)
    fault = {"method": "GET", "path": "^/api/customers$", "status": 429, "retry_after": 0}
    httpx.post(f"{world.cl.url}/_sandbox/faults", json={**fault, "count": 2}).raise_for_status()
    before = _scrape(services)
    run = services.flows.prepare_run("cl-customers-to-ct-customers").run()
    assert run.status == "succeeded", run.error  # both 429s were waited out and retried
    after = _scrape(services)
    assert _rise(before, after, "cartwire_api_throttled_total", CL) == 2
    assert _rise(before, after, "cartwire_api_requests_total", CL) >= 3
    assert _rise(before, after, "cartwire_api_throttled_total", CT) == 0


def test_a_connected_clients_requests_count_too(world: World) -> None:
    services = Services(world.store)
    before = _scrape(services)
    with services.connect(CT) as client:
        assert client.get("channels").status_code == 200
    after = _scrape(services)
    assert _rise(before, after, "cartwire_api_requests_total", CT) == 1
