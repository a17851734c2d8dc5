"""Read every SKU of a Commerce Layer sandbox running the real *live* rate limits, side by side:

- the floor: a minimal hand-written httpx loop, the official `retrieveAll` walk (`sort=id`,
  `page[size]=25`, `filter[q][id_gt]=<last id>`), one request at a time, sleeping out each 429
  for its `Retry-After`;
- cartwire: `cartwire.open(NAME).aread("skus")`, its concurrent keyset walk paced by the
  `commercelayer_limits` throttle.

    .venv/bin/python -m benchmarks.bench_read_commercelayer [--skus 20000] [--latency 0.15]
        [--concurrency 4]

`--latency S` holds every SKU page back S seconds at the server (a delay fault), to show what a
real network's round trips do to a walk that sends one request at a time.

The ceiling: cacheable GETs (skus) may average 1,000 requests a minute, and any 10 s may hold at
most 250 per endpoint (facts §5). Two figures compare each run with it:
- "of 1,000/min": its requests per minute against the average limit. A read shorter than a
  minute can beat 100 %, because the 10-second bursts let 1,000 requests through in 30 s;
- "of best": the fastest schedule both windows allow for that many requests, over its time.
Printed per reader: records and distinct records, seconds, records/s, requests and 429s counted
at the sandbox and by the client, and the process's peak RSS (VmRSS, sampled every 500 records).
"""

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

import cartwire
from benchmarks.bench_sandbox_commercetools import rss_mb
from benchmarks.cl_sandbox import Admin, commercelayer_sandbox

INSTANCE = "bench-cl"
PAGE = 25
AVERAGE, AVERAGE_WINDOW, BURST, BURST_WINDOW = 1000, 60.0, 250, 10.0


@dataclass
class Run:
    reader: str
    records: int = 0
    distinct: int = 0
    seconds: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    rss_peak: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def per_minute(self) -> float:
        return self.requests / self.seconds * 60 if self.seconds else 0.0


def best_seconds(requests: int) -> float:
    """When the last of `requests` can go out at the earliest, both windows respected."""
    sent: list[float] = []
    for i in range(requests):
        at = 0.0
        if i >= BURST:
            at = max(at, sent[i - BURST] + BURST_WINDOW)
        if i >= AVERAGE:
            at = max(at, sent[i - AVERAGE] + AVERAGE_WINDOW)
        sent.append(at)
    return sent[-1] if sent else 0.0


async def measure(admin: Admin, reader: str, records: Callable[[Run], AsyncIterator[Any]]) -> Run:
    admin.fresh_windows()
    admin.http.delete("/counters").raise_for_status()
    run = Run(reader)
    seen: set[str] = set()
    started = time.perf_counter()
    async for record in records(run):
        seen.add(record["id"])
        run.records += 1
        if run.records % 500 == 0:
            run.rss_peak = max(run.rss_peak, rss_mb(os.getpid()))
    run.seconds = time.perf_counter() - started
    run.rss_peak = max(run.rss_peak, rss_mb(os.getpid()))
    run.distinct = len(seen)
    run.requests = admin.paths().get("GET /api/skus", 0)
    return run


def floor(admin: Admin) -> Callable[[Run], AsyncIterator[Any]]:
    creds = admin.sandbox.credentials

    async def records(run: Run) -> AsyncIterator[Any]:
        token = httpx.post(
            f"{creds['auth_url']}/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"}
        async with httpx.AsyncClient(base_url=f"{creds['api_url']}/api", headers=headers) as client:
            last = None
            while True:
                params: dict[str, Any] = {"sort": "id", "page[number]": 1, "page[size]": PAGE}
                if last is not None:
                    params["filter[q][id_gt]"] = last
                response = await client.get("/skus", params=params)
                run.statuses[response.status_code] += 1
                if response.status_code == 429:
                    run.rate_limited += 1
                    await asyncio.sleep(float(response.headers.get("retry-after", BURST_WINDOW)))
                    continue
                response.raise_for_status()
                page = response.json()["data"]
                for resource in page:
                    yield resource
                if len(page) < PAGE:
                    return
                last = page[-1]["id"]

    return records


def with_cartwire(concurrency: int) -> Callable[[Run], AsyncIterator[Any]]:
    async def records(run: Run) -> AsyncIterator[Any]:
        async with cartwire.open(INSTANCE) as platform:
            async for record in platform.aread("skus", concurrency=concurrency):
                yield record
            run.statuses = Counter(platform.api.stats.statuses)
            run.rate_limited = run.statuses[429]

    return records


def report(runs: list[Run], latency: float) -> None:
    print(f"\nlive limits; server latency {latency:g} s per page")
    head = (
        f"{'reader':<22}{'records':>9}{'distinct':>9}{'seconds':>9}{'rec/s':>8}{'requests':>9}"
        f"{'429s':>6}{'req/min':>9}{'of 1,000/min':>13}{'of best':>9}{'peak RSS MB':>12}"
    )
    print(head)
    print("-" * len(head))
    for run in runs:
        best = best_seconds(run.requests)
        print(
            f"{run.reader:<22}{run.records:>9,}{run.distinct:>9,}{run.seconds:>9.1f}"
            f"{run.records / run.seconds:>8.0f}{run.requests:>9,}{run.rate_limited:>6}"
            f"{run.per_minute:>9.0f}{run.per_minute / AVERAGE:>13.0%}"
            f"{best / run.seconds:>9.0%}{run.rss_peak:>12.0f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with commercelayer_sandbox("live") as admin:
        admin.load_skus(args.skus)
        admin.save_instance(INSTANCE)
        runs = []
        for name, reader in (
            ("floor (httpx, id_gt)", floor(admin)),
            (f"cartwire aread ({args.concurrency})", with_cartwire(args.concurrency)),
        ):
            admin.clear()
            if args.latency:
                admin.fault(method="GET", path="^/api/skus$", delay=args.latency, count=10**9)
            runs.append(await measure(admin, name, reader))
            print(f"{name}: {runs[-1].records:,} records in {runs[-1].seconds:.1f} s", flush=True)
        report(runs, args.latency)


if __name__ == "__main__":
    asyncio.run(main())
