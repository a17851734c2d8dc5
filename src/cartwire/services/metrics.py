"""The Prometheus exposition of cartwire (`/metrics`), read at scrape time by a custom collector.

Two sources, which cover different ground:

- runs by status (`cartwire_runs`) and records by outcome (`cartwire_records_total`) come from
  the store, so they count the runs of every process sharing it (CLI, scheduler, servers);
- API requests, 429 answers and token requests per instance (`cartwire_api_requests_total`,
  `cartwire_api_throttled_total`, `cartwire_token_requests_total`) are counted by this process
  (`cartwire.http.request_stats`): the serving process's own requests, those of the runs it
  started, and they start from zero when it restarts, as Prometheus counters may.

A collector rather than metrics kept up to date, since the store, not this process, is what
knows every run; each scrape asks it three small aggregate queries.
"""

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from cartwire.http import request_stats
from cartwire.http.request_stats import InstanceRequests
from cartwire.store import Store
from cartwire.store.runs import STATUSES

# (name, help, count) of the counters kept by this process, labelled by instance.
PROCESS_COUNTERS: tuple[tuple[str, str, Callable[[InstanceRequests], int]], ...] = (
    ("cartwire_api_requests", "API requests sent by this process", lambda r: r.api_requests),
    (
        "cartwire_api_throttled",
        "API answers 429 Too Many Requests to this process",
        lambda r: r.throttled,
    ),
    (
        "cartwire_token_requests",
        "OAuth token requests sent by this process",
        lambda r: r.token_requests,
    ),
)


def _requests() -> Iterator[Metric]:
    counted = request_stats.snapshot()
    for name, help_text, count in PROCESS_COUNTERS:
        family = CounterMetricFamily(name, help_text, labels=["instance"])
        for instance, requests in counted.items():
            family.add_metric([instance], count(requests))
        yield family


class _Collector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        history = self._store.run_history
        by_status = history.by_status()
        runs = GaugeMetricFamily("cartwire_runs", "Runs in the store, by status", labels=["status"])
        for status in STATUSES:  # every status, 0 when no run has it
            runs.add_metric([status], by_status.get(status, 0))
        yield runs
        records = CounterMetricFamily(
            "cartwire_records", "Records of all runs in the store, by outcome", labels=["outcome"]
        )
        for outcome, count in history.by_outcome().items():
            records.add_metric([outcome], count)
        yield records
        yield from _requests()


def render_prometheus(store: Store) -> tuple[bytes, str]:
    """(the exposition in the text format, its content type)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
