"""Upsert 10,000 commercetools records twice (then once more with 1% of them changed) and count
at the sandbox what each run wrote: the second run must write nothing.

    .venv/bin/python -m benchmarks.bench_upsert_commercetools [--records 10000]
        [--entity inventory|customers|both] [--home DIR]

Inventory entries are matched by SKU and supply channel (2,000 SKUs in 5 channels), customers by
e-mail (each with an address). Without --home a sandbox is started in a temporary
CARTWIRE_HOME and stopped at the end; with --home the sandbox running there is used (and reset).

Printed per run: outcomes, seconds, records/s, and the requests counted at the sandbox: writes
(POST/DELETE) and reads (GET, the look-ups by natural key, 100 keys per request).
"""

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

import cartwire
from benchmarks.ct_sandbox import commercetools_sandbox, save_instance

INSTANCE = "bench-ct"
CHANNELS = ("eu", "us", "uk", "au", "jp")

Json = dict[str, Any]


def inventory(records: int, changed: int) -> list[Json]:
    return [
        {
            "sku": f"SKU-{n // len(CHANNELS):06d}",
            "supplyChannel": {"typeId": "channel", "key": CHANNELS[n % len(CHANNELS)]},
            "quantityOnStock": n % 97 + (1000 if n < changed else 0),
        }
        for n in range(records)
    ]


def customers(records: int, changed: int) -> list[Json]:
    return [
        {
            "email": f"customer-{n:06d}@example.com",
            "key": f"customer-{n:06d}",
            "firstName": "Grace" if n < changed else "Ada",
            "lastName": f"Lovelace {n}",
            "password": "not-compared",
            "addresses": [
                {"key": "home", "country": "DE", "city": "Berlin", "postalCode": "10115"}
            ],
            "defaultShippingAddress": 0,
        }
        for n in range(records)
    ]


def upsert_run(admin: httpx.Client, project: str, endpoint: str, records: list[Json]) -> None:
    admin.delete("/_sandbox/counters")
    started = time.perf_counter()
    with cartwire.open(INSTANCE) as platform:
        outcomes = Counter(r.outcome for r in platform.upsert(endpoint, records))
    seconds = time.perf_counter() - started
    paths: dict[str, int] = admin.get("/_sandbox/counters").json()["paths"]
    writes = sum(
        n for k, n in paths.items() if k.startswith(("POST /", "DELETE /")) and project in k
    )
    reads = sum(n for k, n in paths.items() if k.startswith("GET "))
    summary = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    print(
        f"  {endpoint:<10} {len(records):>6} records {seconds:>7.2f} s "
        f"{len(records) / seconds:>7.0f} records/s   writes {writes:>6}   GETs {reads:>4}   "
        f"({summary})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--entity", choices=("inventory", "customers", "both"), default="both")
    parser.add_argument("--home", type=Path, help="a CARTWIRE_HOME whose sandbox to use")
    args = parser.parse_args()
    entities = ("inventory", "customers") if args.entity == "both" else (args.entity,)
    one_percent = args.records // 100

    with commercetools_sandbox(args.home) as ct:
        admin = httpx.Client(base_url=ct.url, timeout=300)
        admin.post("/_sandbox/reset").raise_for_status()
        channels = [
            {"key": key, "roles": ["InventorySupply"], "name": {"en": key.upper()}}
            for key in CHANNELS
        ]
        admin.post("/_sandbox/load", json={"type": "channel", "drafts": channels})
        save_instance(ct, INSTANCE)
        project = ct.credentials["project_key"]
        for entity in entities:
            make = inventory if entity == "inventory" else customers
            print(f"{entity}:")
            for label, changed in (
                ("first", 0),
                ("again", 0),
                (f"{one_percent} changed", one_percent),
            ):
                print(f" {label} run")
                upsert_run(admin, project, entity, make(args.records, changed))


if __name__ == "__main__":
    main()
