"""`/metrics` in the Prometheus text format, read from the store at scrape time: it covers the
runs of every process sharing the store (CLI, scheduler, servers), not only this one's.

A custom collector rather than counters kept in memory, since the store, not this process, is
what knows every run.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from cartwire.store import Store

STATUSES = (
    "queued",
    "running",
    "succeeded",
    "partially succeeded",
    "failed",
    "stopped",
    "interrupted",
)


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[Metric]:
        totals = self._store.run_totals.totals()
        runs = GaugeMetricFamily("cartwire_runs", "Runs in the store by status", labels=["status"])
        for status in sorted({*STATUSES, *totals.runs_by_status}):
            runs.add_metric([status], totals.runs_by_status.get(status, 0))
        yield runs
        records = CounterMetricFamily(
            "cartwire_records", "Records handled by all runs, by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(totals.records_by_outcome.items()):
            records.add_metric([outcome], count)
        yield records


def render_prometheus(store: Store) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreCollector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
