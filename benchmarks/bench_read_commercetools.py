"""Read every product of a 100,000-product commercetools sandbox, side by side in one process:

- the floor: a minimal hand-written httpx loop making the same requests cartwire makes
  (`limit=500&withTotal=false&sort=id asc`, then `where=id > "<last id>"`), decoding each page
  with `response.json()` and touching every record; and the same loop decoding as cartwire does
  (the cyclic GC paused while a page is decoded, `cartwire.resources.reader.PageDecoder`), which
  leaves cartwire's own overhead as the only difference;
- cartwire: `cartwire.open(NAME).read("products")`, and `apages(..., concurrency=4)`, which cuts
  the id range into 4 walks read at once;
- the `commercetools` Python SDK: its `Paginator` (offset paging, which the platform refuses
  past offset 10,000) and its `CursorPaginator` (a `createdAt >` cursor, which skips records
  that share a creation time).

    .venv/bin/python -m benchmarks.bench_read_commercetools [--products 100000] [--rounds 2]
        [--home DIR] [--no-load] [--skip-sdk-cursor]

Without --home a sandbox is started in a temporary CARTWIRE_HOME and stopped at the end; with
--home, the sandbox running there (`cartwire sandbox up`) is used: reset and loaded, unless
--no-load says its products are loaded already. The floor and cartwire alternate for --rounds
rounds (the order flips each round); the best of each is compared. A last "lockstep" read
interleaves their pages (a page of one, then a page of the other), so both meet the same load
on a shared machine.

Printed per run: records read and how many were distinct, seconds, this process's CPU seconds
(the client's own cost, mostly JSON decoding), records/s, requests and token requests counted at
the sandbox, 429s seen by the client, and the process's RSS (VmRSS, sampled every 500 records)
after 10,000 records, at the end and at its highest during the run — flat from 10,000 to
100,000 means memory does not grow with the collection.
"""

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import cartwire
from benchmarks.bench_sandbox_commercetools import load_catalogue, rss_mb
from benchmarks.ct_sandbox import commercetools_sandbox, save_instance
from cartwire.resources.reader import PageDecoder
from cartwire.sandbox import manager

INSTANCE = "bench-ct"
PAGE = 500
RSS_MARK = 10_000
FLOOR = "floor (httpx keyset loop)"
FLOOR_PAUSED = "floor, GC paused while decoding"
CARTWIRE = "cartwire read()"


@dataclass
class Run:
    reader: str
    records: int = 0
    distinct: int | None = None  # None: not known (an id-ordered walk that was out of order)
    in_order: bool = True
    seconds: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds: the client's own cost, without the server's
    requests: int = 0
    tokens: int = 0
    rate_limited: int | None = 0
    rss_mark: float = float("nan")
    rss_end: float = float("nan")
    rss_peak: float = 0.0
    note: str = ""
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class Sandbox:
    """The commercetools sandbox's admin API."""

    def __init__(self, sandbox: manager.Sandbox) -> None:
        self.sandbox = sandbox
        self.admin = httpx.Client(base_url=sandbox.url, timeout=300)
        self.project = sandbox.credentials["project_key"]

    def counts(self) -> tuple[int, int]:
        """(product GETs, token requests) since the counters were cleared."""
        counters = self.admin.get("/_sandbox/counters").json()
        return counters["paths"].get(f"GET /{self.project}/products", 0), counters["token_requests"]


def measure(
    sandbox: Sandbox,
    reader: str,
    records: Callable[[Run], Iterable[Any]],
    key: Callable[[Any], str],
    *,
    ordered: bool = True,
) -> Run:
    """Consume `records`. An id-ordered walk is checked to ascend, which proves its records
    distinct at no memory cost; any other walk keeps a set of ids to count the distinct ones."""
    run = Run(reader)
    sandbox.admin.delete("/_sandbox/counters")
    seen: set[str] = set()
    last = ""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        for record in records(run):
            current = key(record)
            if ordered:
                run.in_order = run.in_order and current > last
                last = current
            else:
                seen.add(current)
            run.records += 1
            if run.records % PAGE == 0:
                rss = rss_mb(os.getpid())
                run.rss_peak = max(run.rss_peak, rss)
                if run.records == RSS_MARK:
                    run.rss_mark = rss
    except Exception as exc:  # the SDK's offset walk ends this way
        run.note = f"stopped: {type(exc).__name__}: {str(exc)[:90]}"
    run.seconds = time.perf_counter() - started
    run.cpu = time.process_time() - cpu
    run.rss_end = rss_mb(os.getpid())
    run.rss_peak = max(run.rss_peak, run.rss_end)
    run.requests, run.tokens = sandbox.counts()
    run.distinct = (run.records if run.in_order else None) if ordered else len(seen)
    return run


# -- the readers ---------------------------------------------------------------------------------


def floor(sandbox: Sandbox, pause_gc: bool = False) -> Callable[[Run], Iterator[dict[str, Any]]]:
    """With `pause_gc`, each page is decoded as cartwire decodes it (`reader.PageDecoder`): the
    difference left between this floor and cartwire is then cartwire's own overhead."""
    creds = sandbox.sandbox.credentials

    def records(run: Run) -> Iterator[dict[str, Any]]:
        def count(response: httpx.Response) -> None:
            run.statuses[response.status_code] += 1

        token = httpx.post(
            f"{creds['auth_url']}/oauth/token",
            auth=(creds["client_id"], creds["client_secret"]),
            data={"grant_type": "client_credentials", "scope": creds["scope"]},
        ).json()["access_token"]
        with httpx.Client(
            base_url=f"{creds['api_url']}/{creds['project_key']}",
            headers={"Authorization": f"Bearer {token}"},
            event_hooks={"response": [count]},
            timeout=60,
        ) as client:
            last = None
            decoder = PageDecoder() if pause_gc else None
            while True:
                params: dict[str, str | int] = {
                    "limit": PAGE,
                    "withTotal": "false",
                    "sort": "id asc",
                }
                if last is not None:
                    params["where"] = f'id > "{last}"'
                response = client.get("/products", params=params)
                response.raise_for_status()
                page = (decoder(response) if decoder else response.json())["results"]
                yield from page
                if len(page) < PAGE:
                    break
                last = page[-1]["id"]
                del page, response  # nothing of this page is held while the next one comes
        run.rate_limited = run.statuses[429]

    return records


def with_cartwire(sandbox: Sandbox) -> Callable[[Run], Iterator[dict[str, Any]]]:
    def records(run: Run) -> Iterator[dict[str, Any]]:
        with cartwire.open(INSTANCE) as platform:
            before = platform.api.stats.statuses[429]
            yield from platform.read("products")
            run.rate_limited = platform.api.stats.statuses[429] - before

    return records


def with_cartwire_concurrent(width: int) -> Callable[[Run], Iterator[dict[str, Any]]]:
    """`apages(concurrency=width)`: the id range cut into `width` walks read at once (pages
    arrive out of order), driven page by page from this synchronous loop."""

    def records(run: Run) -> Iterator[dict[str, Any]]:
        with asyncio.Runner() as runner, cartwire.open(INSTANCE) as platform:
            pages = platform.apages("products", concurrency=width)

            async def step() -> list[dict[str, Any]]:
                return (await anext(pages)).records

            async def finish() -> None:
                await pages.aclose()  # type: ignore[attr-defined]
                await platform.api.asynchronous.aclose()  # this loop's connections

            try:
                while True:
                    try:
                        page = runner.run(step())
                    except StopAsyncIteration:
                        break
                    yield from page
            finally:
                runner.run(finish())

    return records


def sdk(sandbox: Sandbox, cursor: bool) -> Callable[[Run], Iterator[Any]]:
    from commercetools.paginators import CursorPaginator, Paginator
    from commercetools.platform.client import Client

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox is plain http on loopback
    creds = sandbox.sandbox.credentials

    def records(run: Run) -> Iterator[Any]:
        run.rate_limited = None
        client = Client(  # type: ignore[no-untyped-call]  # the SDK's constructor is untyped
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            scope=[creds["scope"]],
            url=creds["api_url"],
            token_url=f"{creds['auth_url']}/oauth/token",
        )
        products = client.with_project_key(creds["project_key"]).products()
        walk = (
            CursorPaginator(products.get)
            if cursor  # (the SDK annotates every keyword argument as a dict:)
            else Paginator(products.get, sort=["id asc"])  # type: ignore[arg-type]
        )
        walk.page_size = PAGE
        yield from walk

    return records


# -- set-up and report ------------------------------------------------------------------------


def lockstep(
    sandbox: Sandbox, contestants: list[tuple[str, Callable[[Run], Iterable[Any]]]]
) -> dict[str, float]:
    """Seconds each reader spends reading, with their pages interleaved (one page of each in
    turn), so that both see the same load on a shared machine; returns records/s by reader."""
    walks = {name: iter(records(Run(name))) for name, records in contestants}
    spent = dict.fromkeys(walks, 0.0)
    counted = dict.fromkeys(walks, 0)
    while walks:
        for name, walk in list(walks.items()):
            started = time.perf_counter()
            for _ in range(PAGE):
                if next(walk, None) is None:
                    del walks[name]
                    break
                counted[name] += 1
            spent[name] += time.perf_counter() - started
    return {name: counted[name] / spent[name] for name in spent}


def report(runs: list[Run], products: int) -> None:
    print(
        f"\n{'reader':<34} {'records':>8} {'distinct':>8} {'s':>7} {'cpu s':>6} "
        f"{'records/s':>10} {'GETs':>5} {'tokens':>6} {'429s':>5} {'RSS@10k':>8} {'RSS@end':>8} "
        f"{'peak':>7}"
    )
    for run in runs:
        limited = "-" if run.rate_limited is None else str(run.rate_limited)
        distinct = "?" if run.distinct is None else str(run.distinct)
        print(
            f"{run.reader:<34} {run.records:>8} {distinct:>8} {run.seconds:>7.2f} {run.cpu:>6.2f} "
            f"{run.rate:>10.0f} {run.requests:>5} {run.tokens:>6} {limited:>5} "
            f"{run.rss_mark:>6.0f}MB {run.rss_end:>6.0f}MB {run.rss_peak:>5.0f}MB"
        )
        if run.distinct != products and not run.note:
            run.note = f"{run.distinct} distinct of {products}, and no error: a silent partial read"
        if run.note:
            print(f"{'':<34} ^ {run.note}")
    print()
    best = {r.reader: max(x.rate for x in runs if x.reader == r.reader) for r in runs}
    for reader in [n for n in best if n.startswith("cartwire")]:
        for base in (FLOOR, FLOOR_PAUSED):
            print(
                f"{reader} / {base} (best of each): {best[reader]:.0f} / {best[base]:.0f} "
                f"records/s = {best[reader] / best[base]:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--home", type=Path, help="a CARTWIRE_HOME whose sandbox to use")
    parser.add_argument("--no-load", action="store_true", help="the products are loaded already")
    parser.add_argument("--skip-sdk-cursor", action="store_true", help="(it takes minutes)")
    parser.add_argument("--concurrency", type=int, default=4, help="walks of the concurrent read")
    args = parser.parse_args()

    with commercetools_sandbox(args.home) as ct:
        sandbox = Sandbox(ct)
        if not args.no_load:
            sandbox.admin.post("/_sandbox/reset").raise_for_status()
            seconds = load_catalogue(sandbox.admin, args.products)
            print(f"loaded {args.products} products in {seconds:.1f} s")
        save_instance(ct, INSTANCE)

        runs: list[Run] = []
        for round_ in range(args.rounds):
            contestants = [
                (FLOOR, floor(sandbox)),
                (FLOOR_PAUSED, floor(sandbox, pause_gc=True)),
                (CARTWIRE, with_cartwire(sandbox)),
            ]
            for name, records in contestants[:: 1 if round_ % 2 == 0 else -1]:
                runs.append(measure(sandbox, name, records, _id))
                print(f"  {name}: {runs[-1].rate:.0f} records/s", flush=True)
        concurrent = f"cartwire apages(concurrency={args.concurrency})"
        runs.append(
            measure(
                sandbox, concurrent, with_cartwire_concurrent(args.concurrency), _id, ordered=False
            )
        )
        runs.append(measure(sandbox, "sdk Paginator (offset)", sdk(sandbox, False), _sdk_id))
        if not args.skip_sdk_cursor:
            name = "sdk CursorPaginator (createdAt)"
            runs.append(measure(sandbox, name, sdk(sandbox, True), _sdk_id, ordered=False))
        report(runs, args.products)
        rates = lockstep(
            sandbox,
            [
                (FLOOR, floor(sandbox)),
                (FLOOR_PAUSED, floor(sandbox, pause_gc=True)),
                (CARTWIRE, with_cartwire(sandbox)),
            ],
        )
        print("\nlockstep (a page of each in turn, the same load for all), records/s:")
        for reader, rate in rates.items():
            print(f"  {reader:<34} {rate:>6.0f}  = {rate / rates[FLOOR]:.3f} x the floor")


def _id(record: dict[str, Any]) -> str:
    return str(record["id"])


def _sdk_id(product: Any) -> str:
    return str(product.id)


if __name__ == "__main__":
    main()
