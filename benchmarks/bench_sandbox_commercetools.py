"""Benchmark the commercetools sandbox: bulk load, then an id-keyset walk over every product.

Starts `src/cartwire/sandbox/commercetools/start.mjs` on a free loopback port, loads N products
(1-5 variants each, three prices per variant, shaped like `cartwire sandbox seed`'s) through
`POST /_sandbox/load` in chunks of 2,000, then reads them all back the way the official SDKs
page: `sort=id asc`, `where=id > "<last id>"`, `limit=500`, `withTotal=false`.

    .venv/bin/python benchmarks/bench_sandbox_commercetools.py [--products 100000]

Printed: load time, the server's RSS (from /proc), and for the walk records/s and ms/page, both
for the HTTP exchange alone (the sandbox: server time plus transfer) and end to end (plus
`json.loads` of every 3 MB page in this process). Python's cyclic GC is paused during the walk:
json.loads allocates ~100,000 containers per page, and the collections it triggers otherwise
make decoding 2-10x slower and very noisy; that is the client's cost, not the sandbox's.
"""

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from cartwire.sandbox.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "src/cartwire/sandbox/commercetools/start.mjs"
PROJECT = "bench"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
CHUNK = 2000
PAGE = 500

Json = dict[str, Any]


def start_server(port: int) -> subprocess.Popen[bytes]:
    node = shutil.which("node")
    if node is None:
        sys.exit("Node.js is needed for the commercetools sandbox")
    env = {
        **os.environ,
        "CARTWIRE_CT_PORT": str(port),
        "CARTWIRE_CT_PROJECT_KEY": PROJECT,
        "CARTWIRE_CT_CLIENT_ID": CLIENT_ID,
        "CARTWIRE_CT_CLIENT_SECRET": CLIENT_SECRET,
    }
    process = subprocess.Popen([node, str(START)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the sandbox exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    sys.exit("the sandbox did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ref(type_id: str, key: str) -> Json:
    return {"typeId": type_id, "key": key}


def product_draft(n: int) -> Json:
    variants = []
    for v in range(1 + (n * 7) % 5):  # 1-5 variants, 3 on average
        sku = f"SKU-{n:06d}-{v}"
        variants.append(
            {
                "sku": sku,
                "key": sku.lower(),
                "attributes": [
                    {"name": "color", "value": ("black", "white", "navy")[v % 3]},
                    {"name": "size", "value": ("S", "M", "L", "XL", "XXL")[v]},
                ],
                "prices": [
                    {
                        "key": f"{sku.lower()}-{currency.lower()}",
                        "value": {"currencyCode": currency, "centAmount": 1999 + n % 1000},
                        "country": country,
                    }
                    for currency, country in (("EUR", "DE"), ("USD", "US"), ("GBP", "GB"))
                ],
                "images": [
                    {
                        "url": f"https://images.example.com/{sku}.jpg",
                        "dimensions": {"w": 800, "h": 800},
                    }
                ],
            }
        )
    return {
        "key": f"product-{n:06d}",
        "productType": ref("product-type", "apparel"),
        "name": {"en": f"Classic Cotton T-Shirt {n}", "de": f"Klassisches Baumwoll-T-Shirt {n}"},
        "description": {"en": "A soft cotton shirt.", "de": "Ein weiches Baumwollhemd."},
        "slug": {"en": f"classic-cotton-t-shirt-{n}", "de": f"klassisches-t-shirt-{n}"},
        "categories": [ref("category", ("men", "women", "kids")[n % 3])],
        "taxCategory": ref("tax-category", "standard"),
        "masterVariant": variants[0],
        "variants": variants[1:],
        "publish": True,
    }


def load(client: httpx.Client, kind: str, drafts: list[Json]) -> None:
    response = client.post("/_sandbox/load", json={"type": kind, "drafts": drafts})
    if response.status_code != 200:
        sys.exit(f"loading {kind} failed: {response.status_code} {response.text[:500]}")


def load_catalogue(client: httpx.Client, products: int) -> float:
    load(
        client,
        "tax-category",
        [
            {
                "key": "standard",
                "name": "Standard",
                "rates": [{"name": "DE", "amount": 0.19, "includedInPrice": True, "country": "DE"}],
            }
        ],
    )
    attributes = [
        {
            "name": name,
            "label": {"en": name.title()},
            "isRequired": False,
            "type": {"name": "text"},
            "attributeConstraint": "None",
            "isSearchable": True,
            "inputHint": "SingleLine",
        }
        for name in ("color", "size")
    ]
    load(
        client,
        "product-type",
        [{"key": "apparel", "name": "Apparel", "description": "Apparel", "attributes": attributes}],
    )
    load(
        client,
        "category",
        [
            {"key": k, "name": {"en": k.title()}, "slug": {"en": k}}
            for k in ("men", "women", "kids")
        ],
    )
    started = time.perf_counter()
    for first in range(0, products, CHUNK):
        load(
            client,
            "product",
            [product_draft(n) for n in range(first, min(products, first + CHUNK))],
        )
    return time.perf_counter() - started


def walk(api: httpx.Client) -> tuple[int, float, list[float], list[float]]:
    """Id-keyset walk; returns (records, seconds, ms per page end to end, ms per page HTTP)."""
    records = 0
    last: str | None = None
    total_ms: list[float] = []
    http_ms: list[float] = []
    started = time.perf_counter()
    while True:
        params = {"sort": "id asc", "limit": str(PAGE), "withTotal": "false"}
        if last is not None:
            params["where"] = f'id > "{last}"'
        t0 = time.perf_counter()
        response = api.get("/products", params=params)
        t1 = time.perf_counter()
        response.raise_for_status()
        page = json.loads(response.content)
        t2 = time.perf_counter()
        http_ms.append((t1 - t0) * 1000)
        total_ms.append((t2 - t0) * 1000)
        records += page["count"]
        if page["count"] < PAGE:
            break
        last = page["results"][-1]["id"]
    return records, time.perf_counter() - started, total_ms, http_ms


def incremental_pages(api: httpx.Client, pages: int) -> list[float]:
    """HTTP ms per page of the lastModifiedAt/id keyset cartwire's incremental sync uses."""
    cursor = ("1970-01-01T00:00:00.000Z", "")
    timings: list[float] = []
    for _ in range(pages):
        t0 = time.perf_counter()
        response = api.get(
            "/products",
            params={
                "where": "lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)",
                "var.t": cursor[0],
                "var.id": cursor[1],
                "sort": ["lastModifiedAt asc", "id asc"],
                "limit": str(PAGE),
                "withTotal": "false",
            },
        )
        timings.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        results = json.loads(response.content)["results"]
        if len(results) < PAGE:
            break
        cursor = (results[-1]["lastModifiedAt"], results[-1]["id"])
    return timings


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    mean = statistics.fmean(values)
    return f"mean {mean:.1f}, median {statistics.median(values):.1f}, p95 {p95:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    args = parser.parse_args()

    port = free_port()
    process = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            print(f"loading {args.products:,} products ...", flush=True)
            seconds = load_catalogue(client, args.products)
            print(f"load: {seconds:.1f} s ({args.products / seconds:,.0f} products/s)")
            print(f"server RSS after load: {rss_mb(process.pid):,.0f} MB")

            token = client.post(
                "/oauth/token",
                auth=(CLIENT_ID, CLIENT_SECRET),
                data={"grant_type": "client_credentials", "scope": f"view_products:{PROJECT}"},
            ).json()["access_token"]

        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{base}/{PROJECT}", headers=headers, timeout=300) as api:
            gc.collect()
            gc.disable()
            try:
                records, seconds, total_ms, http_ms = walk(api)
            finally:
                gc.enable()
            if records != args.products:
                sys.exit(f"the walk saw {records:,} records, expected {args.products:,}")
            http_seconds = sum(http_ms) / 1000
            print(f"id keyset walk: {records:,} records in {len(total_ms)} pages of {PAGE}")
            print(f"  HTTP exchange only:              {records / http_seconds:,.0f} records/s")
            print(f"    ms/page: {describe(http_ms)}")
            print(f"  end to end (HTTP + JSON decode): {records / seconds:,.0f} records/s")
            print(f"    ms/page: {describe(total_ms)}")
            gc.disable()
            try:
                incremental = incremental_pages(api, 20)
            finally:
                gc.enable()
            pages = len(incremental)
            timing = describe(incremental)
            print(f"lastModifiedAt keyset, first {pages} pages (HTTP): ms/page {timing}")
        print(f"server RSS after the walk: {rss_mb(process.pid):,.0f} MB")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
