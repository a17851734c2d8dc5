"""Throughput of the Commerce Layer sandbox with a large catalogue.

Starts `python -m cartwire.sandbox.commercelayer` on a free port (rate limits off), bulk-loads
N SKUs through `/_sandbox/load`, then measures requests per second, with a few concurrent
clients, for single GETs by id, for keyset list pages (`sort=id`, `filter[q][id_gt]`,
`page[size]=25`, the official SDK utilities' way to walk a whole collection), and for the
price lookup cartwire's upserts send (`sku_code_in` 25 codes + `price_list_id_eq`, `sort=id`)
with one price per SKU in one price list, so the list filter has N prices to narrow from.

The clients use keep-alive `http.client` connections rather than httpx: on a small machine a
heavier client saturates its own CPU before the server does and the figures measure the client.

    .venv/bin/python benchmarks/bench_sandbox_commercelayer.py [--skus 100000] [--clients 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import select
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

import httpx

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
HEADERS = {"Accept": "application/vnd.api+json"}


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cartwire.sandbox.commercelayer",
            "--port",
            "0",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--rate-limits",
            "off",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if " on " not in line:
        process.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return process, line.split(" on ", 1)[1].strip()


def load_skus(url: str, count: int) -> tuple[list[str], float]:
    token = token_for(url)
    with httpx.Client(base_url=url, headers={**HEADERS, "Authorization": f"Bearer {token}"}) as c:
        category = c.get("/api/shipping_categories").json()["data"][0]["id"]
    link = {"shipping_category": {"type": "shipping_categories", "id": category}}
    records = [
        {
            "attributes": {"code": f"BENCH-{n:07d}", "name": f"Benchmark SKU {n}"},
            "relationships": link,
        }
        for n in range(count)
    ]
    began = time.perf_counter()
    response = httpx.post(
        f"{url}/_sandbox/load", json={"type": "skus", "records": records}, timeout=600
    )
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    ids: list[str] = response.json()["ids"]
    return ids, elapsed


def load_prices(url: str, sku_ids: list[str]) -> tuple[str, float]:
    """One price per SKU in the sandbox's first price list; its id, and the load's seconds."""
    token = token_for(url)
    with httpx.Client(base_url=url, headers={**HEADERS, "Authorization": f"Bearer {token}"}) as c:
        price_list = c.get("/api/price_lists").json()["data"][0]["id"]
    records = [
        {
            "attributes": {"amount_cents": 1000 + n % 500},
            "relationships": {
                "sku": {"type": "skus", "id": sku_id},
                "price_list": {"type": "price_lists", "id": price_list},
            },
        }
        for n, sku_id in enumerate(sku_ids)
    ]
    began = time.perf_counter()
    response = httpx.post(
        f"{url}/_sandbox/load", json={"type": "prices", "records": records}, timeout=600
    )
    response.raise_for_status()
    return price_list, time.perf_counter() - began


def token_for(url: str) -> str:
    body = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    token: str = httpx.post(f"{url}/oauth/token", json=body).json()["access_token"]
    return token


def measure(
    url: str,
    clients: int,
    seconds: float,
    target: Callable[[random.Random], str],
    check: Callable[[bytes], bool],
) -> tuple[float, list[float]]:
    """Requests per second over all clients, and every request's latency (seconds).

    `target` picks each request's path; `check` validates a sample of the response bodies.
    """
    headers = {**HEADERS, "Authorization": f"Bearer {token_for(url)}"}
    host, port = urlsplit(url).hostname or "", urlsplit(url).port or 80
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        connection = http.client.HTTPConnection(host, port)
        while time.perf_counter() < stop:
            began = time.perf_counter()
            connection.request("GET", target(rng), headers=headers)
            response = connection.getresponse()
            body = response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200 or (len(mine) % 50 == 1 and not check(body)):
                raise SystemExit(f"unexpected response {response.status}: {body[:300]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies


def report(label: str, rate: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"{label:<34} {rate:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    args = parser.parse_args()

    process, url = start_server()
    try:
        ids, load_seconds = load_skus(url, args.skus)
        print(f"loaded {len(ids):,} SKUs through /_sandbox/load in {load_seconds:.2f} s")
        price_list, load_seconds = load_prices(url, ids)
        print(f"loaded {len(ids):,} prices (one price list) in {load_seconds:.2f} s")
        ordered = sorted(ids)

        def by_id(rng: random.Random) -> str:
            return f"/api/skus/{rng.choice(ids)}"

        def keyset(rng: random.Random) -> str:
            after = ordered[rng.randrange(len(ordered) - 25)]
            query = urlencode(
                {"sort": "id", "page[number]": 1, "page[size]": 25, "filter[q][id_gt]": after}
            )
            return f"/api/skus?{query}"

        def by_code(rng: random.Random) -> str:
            code = f"BENCH-{rng.randrange(len(ids)):07d}"
            return f"/api/skus?{urlencode({'filter[q][code_eq]': code})}"

        def price_lookup(rng: random.Random) -> str:
            first = rng.randrange(len(ids) - 25)
            query = {
                "filter[q][sku_code_in]": ",".join(
                    f"BENCH-{n:07d}" for n in range(first, first + 25)
                ),
                "filter[q][price_list_id_eq]": price_list,
                "sort": "id",
                "page[size]": 25,
                "page[number]": 1,
            }
            return f"/api/prices?{urlencode(query)}"

        def one_sku(body: bytes) -> bool:
            return bool(json.loads(body)["data"]["type"] == "skus")

        def full_page(body: bytes) -> bool:
            return len(json.loads(body)["data"]) == 25

        def one_match(body: bytes) -> bool:
            return bool(json.loads(body)["meta"]["record_count"] == 1)

        for label, target, check in (
            ("GET /api/skus/{id}", by_id, one_sku),
            ("keyset page of 25 (sort=id, id_gt)", keyset, full_page),
            ("list filtered by code_eq", by_code, one_match),
            ("price lookup, 25 codes in one list", price_lookup, full_page),
        ):
            rate, latencies = measure(url, args.clients, args.seconds, target, check)
            report(label, rate, latencies)
        print(f"({args.clients} concurrent clients, {args.seconds:.0f} s each, one server process)")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
