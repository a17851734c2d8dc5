"""Upserts into a Commerce Layer sandbox, counted at the server:

1. 10,000 SKUs upserted twice: the first run creates them (through the Imports API, since far
   more than `bulk_threshold` records need writing), the second finds every one unchanged and
   writes nothing at all;
2. 20,000 prices into one price list, record by record (POSTs) against through Imports, each
   from the same starting point (a reset sandbox with the 20,000 SKUs loaded).

    .venv/bin/python -m benchmarks.bench_upsert_commercelayer [--records 10000]
        [--prices 20000] [--rate-limits off|test|live]

With `--rate-limits off` (the default) the figures show the client's and the server's own
speed; per-record writes at the live limit of 200 a minute would take hours, which is printed
instead of run when the limits are on. Printed per run: outcomes, seconds, records/s, requests
by method counted at the sandbox, and the process's peak RSS.
"""

import argparse
import os
import resource
import time
from collections import Counter
from typing import Any

from benchmarks.cl_sandbox import Admin, commercelayer_sandbox
from cartwire.connectors import get_connector
from cartwire.platforms.commercelayer.writer import CommerceLayerWriter
from cartwire.resources import Platform
from cartwire.services.clients import open_platform
from cartwire.store import Store

INSTANCE = "bench-cl"
LIVE_WRITES_PER_MINUTE = 200


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_record_writer(platform: Platform, endpoint: str) -> CommerceLayerWriter:
    """The endpoint's writer with Imports switched off: every write a POST or PATCH."""
    spec = get_connector("commercelayer").endpoint(endpoint)
    assert spec.write is not None
    options = {**spec.write.options, "importable": False}
    write = spec.write.model_copy(update={"options": options})
    return CommerceLayerWriter(platform.api, spec.model_copy(update={"write": write}))


def run(admin: Admin, label: str, upsert: Any, records: list[dict[str, Any]]) -> None:
    admin.clear()
    started = time.perf_counter()
    outcomes = Counter(result.outcome for result in upsert(records))
    seconds = time.perf_counter() - started
    by_method = Counter[str]()
    for path, count in admin.paths().items():
        method, where = path.split(" ", 1)
        by_method["imports" if where == "/api/imports" and method == "POST" else method] += count
    requests = ", ".join(f"{m} {n:,}" for m, n in sorted(by_method.items()))
    print(
        f"{label:<34}{dict(outcomes)!s:<28}{seconds:>8.1f} s{len(records) / seconds:>9.0f}/s"
        f"   requests: {sum(by_method.values()):,} ({requests})   peak RSS {peak_rss_mb():.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--prices", type=int, default=20_000)
    parser.add_argument("--rate-limits", choices=("off", "test", "live"), default="off")
    args = parser.parse_args()
    with commercelayer_sandbox(args.rate_limits) as admin:
        admin.save_instance(INSTANCE)
        print(f"Commerce Layer sandbox, rate limits {args.rate_limits}")
        with Store.open() as store, open_platform(store, INSTANCE) as platform:
            skus = [
                {
                    "code": f"NEW-{n:06d}",
                    "name": f"New {n}",
                    "shipping_category": {"code": "merchandise"},
                }
                for n in range(args.records)
            ]
            for attempt in ("first", "second"):
                run(
                    admin,
                    f"{args.records:,} skus, {attempt} run",
                    platform.writer("skus").upsert,
                    skus,
                )

            prices = [
                {
                    "sku_code": f"SKU-{n:06d}",
                    "price_list": {"code": "eur"},
                    "amount_cents": 1000 + n,
                }
                for n in range(args.prices)
            ]
            label = f"{args.prices:,} prices, "
            if args.rate_limits == "off":
                admin.reset()
                admin.load_skus(args.prices)
                writer = per_record_writer(platform, "prices")
                run(admin, label + "record by record", writer.upsert, prices)
            else:
                minutes = args.prices / LIVE_WRITES_PER_MINUTE
                skipped = f"not run: {minutes:,.0f}+ min at {LIVE_WRITES_PER_MINUTE} writes/min"
                print(f"{label + 'record by record':<34}{skipped}")
            admin.reset()
            admin.load_skus(args.prices)
            run(admin, label + "through Imports", platform.writer("prices").upsert, prices)
    os.environ.pop("CARTWIRE_HOME", None)


if __name__ == "__main__":
    main()
