"""The workers benchmark of issue 11: `ct-products-to-cl-skus` on 1, 2 and 4 real `cartwire
worker` processes (PostgreSQL store, Redis broker), with the Commerce Layer emulator's limits off
(the engine is the bound) and at its live limits (the platform is).

    .venv/bin/python -m benchmarks.bench_workers [--products 2000] [--workers 1,2,4]
        [--limits off,live] [--broker redis://127.0.0.1:6379/0]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Starts both sandboxes once in a throwaway CARTWIRE_HOME (stopped again at the end, on Ctrl-C
too). For each configuration (limits x workers) it creates a fresh PostgreSQL database and a
queue of its own on the broker, seeds both sandboxes with `cartwire.sandbox.seed.seed` (which
resets them) and adds the sandbox instances with `cartwire.demo.connect_sandboxes`, switches the
Commerce Layer profile (`PATCH /_sandbox/config {"rate_limits": …}`, which also empties its
windows), starts N `cartwire worker --concurrency 1 --shards N` processes and waits until all N
answer `workers status`; then queues the run (`flows run --queue`) and follows it in the store
until it ends. With N > 1 the full read is cut into N commercetools id-range shards
(docs/workers.md, "Sharded runs"); with 1 worker it is one run in slices.

Figures per configuration: wall time from queueing to the run's end, records written (created +
updated: skus and prices), records/s, the scaling ratio (records/s against 1 worker at the same
limits), token requests and 429s as the Commerce Layer sandbox counted them
(`/_sandbox/counters`: `token_requests`, `throttled`; commercetools' token requests added), and
the peak RSS of each worker: the VmHWM of its process tree (the `cartwire worker` process and
its one forked pool process), sampled every 0.2 s while it runs, summed over the tree. After
each run Commerce Layer's skus and prices are read back (limits off, after the counters were
taken) against the catalogue: lost, duplicated, unexpected and wrong-amount records.

The machine this was written on has 2 shared CPU cores: past 2 workers the processes compete for
them (and with the sandboxes and PostgreSQL), so scaling beyond 2 is bounded by the machine.

Measured (2 shared cores):
- 100,000 products (1,198,696 records; 4,943 s in all, nothing else running for the limits-off
  runs). Limits off, 1 / 2 / 4 workers: 590.6 / 380.1 / 336.2 s, 2,030 / 3,154 / 3,565
  records/s: 1.00x / 1.55x / 1.76x (4 workers on 2 cores: the machine is the bound). Live:
  904.3 / 901.5 / 908.5 s, 1,326 / 1,330 / 1,319 records/s: 1.00x each; ~15,600 Commerce
  Layer requests, 13,100 of them cacheable lookups (GET prices, GET skus) against 1,000 a
  minute shared by all workers: ~13 minutes of lookups whatever the number of workers (issue
  12's Exports are the way past it). Every run: 2 token requests, lost / duplicated / wrong 0,
  peak RSS 294-309 MB a worker. 429s: 0, except 4 in the 4-worker live run (against ~15,800
  requests; each retried, nothing lost): the shared windows are not yet exact when four
  workers reach a window's edge at once.
- 10,000 products (119,496 records; 492 s in all). Limits off, 1 / 2 / 4 workers: 42.5 / 25.9
  / 19.5 s, 2,811 / 4,610 / 6,137 records/s: 1.00x / 1.64x / 2.18x. Live: 79.1 / 77.0 /
  78.8 s, 1,510 / 1,552 / 1,517 records/s: 1.00x / 1.03x / 1.00x; ~1,256 cacheable GETs
  (lookups) against 1,000 a minute, shared by the workers in Redis, are the bound whatever the
  number of workers. Every run: 2 token requests, no 429, lost / duplicated / wrong 0, peak
  RSS 276-287 MB a worker.
- 2,000 products (23,944 records; the default): off 12.2 / 8.5 / 10.2 s (1.00x / 1.43x /
  1.20x), live 10.2 / 18.7 / 42.5 s (1.00x / 0.55x / 0.24x; again 10.1 s and 17.4 s for 1 and 4
  workers); 2 token requests, no 429, nothing lost or doubled, 263-277 MB a worker.
- Sharded runs sometimes write records one by one beside their imports (4 shards at 2,000
  live: `POST skus` 62, `POST prices` 48; at 10,000: 92 and 42 `POST skus` in two of the
  runs), writes the live limits' 50 per 10 s burst paces; why a shard does so is not pinned
  down yet. At 2,000 products this, not the engine, made the sharded runs slower at live limits.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg
import redis
from kombu import Connection, Exchange, Queue
from psycopg import sql
from sqlalchemy.engine import make_url

from cartwire.demo import connect_sandboxes
from cartwire.sandbox import manager
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.clients import all_attributes, api_client
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from cartwire.store.runs import FINISHED, Run

FLOW = "ct-products-to-cl-skus"
CARTWIRE = str(Path(sys.executable).parent / "cartwire")
SEED = 11
RUN_DEADLINE = 3 * 3600.0  # seconds a run may take before the benchmark gives up on it
READY_DEADLINE = 120.0  # seconds the workers may take to answer `workers status`
SAMPLE_SECONDS = 0.2


@dataclass
class Check:
    """Commerce Layer's skus and prices against the catalogue."""

    expected: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    wrong: int = 0

    def __str__(self) -> str:
        return (
            f"{self.expected:,} expected records: lost {self.lost}, duplicated {self.duplicated}, "
            f"unexpected {self.unexpected}, wrong {self.wrong}"
        )


@dataclass
class Row:
    workers: int
    limits: str
    products: int
    status: str
    shards: int
    written: int
    seconds: float
    tokens: int
    throttled: int
    rss_mb: list[float]
    check: Check

    @property
    def per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def say(text: str) -> None:
    print(text, flush=True)


def tree_peak_kb(pid: int) -> dict[int, int]:
    """VmHWM (kB) of `pid` and its descendants, by pid; processes gone meanwhile are left out."""
    found: dict[int, int] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        with suppress(OSError, ValueError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    found[current] = int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return found


def by_route(paths: dict[str, int]) -> str:
    """`GET skus 123, POST imports 4, …`: the sandbox's paths, ids folded into `{id}`."""
    folded = Counter[str]()
    for route, n in paths.items():
        method, path = route.split(" ", 1)
        parts = [p for p in path.split("/") if p][1:]
        folded[f"{method} {'/'.join(parts[:1] + ['{id}'] * (len(parts) > 1))}"] += n
    return ", ".join(f"{k} {n:,}" for k, n in folded.most_common())


class PeakSampler:
    """The peak RSS of each worker's process tree: every process's VmHWM as last seen (a pool
    process that ended keeps its last reading), summed per worker."""

    def __init__(self, pids: list[int]) -> None:
        self.seen: list[dict[int, int]] = [{} for _ in pids]
        self.pids = pids
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.is_set():
            for n, pid in enumerate(self.pids):
                self.seen[n].update(tree_peak_kb(pid))
            self.done.wait(SAMPLE_SECONDS)

    def stop(self) -> list[float]:
        self.done.set()
        self.thread.join()
        return [sum(seen.values()) / 1024 for seen in self.seen]


@dataclass
class Deployment:
    """One configuration's store, queue and workers."""

    home: Path
    env: dict[str, str]
    database_url: str
    tag: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [CARTWIRE, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"cartwire {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start_workers(self, count: int) -> None:
        for n in range(count):
            log = open(self.home / f"worker-{self.tag}-{n}.log", "wb")  # noqa: SIM115
            with log:
                self.workers.append(
                    subprocess.Popen(
                        [
                            *(CARTWIRE, "worker", "--concurrency", "1", "--shards", str(count)),
                            *("--name", f"bench-{self.tag}-{n}@%h"),
                        ],
                        env={**os.environ, **self.env},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def answering(self) -> int:
        """How many of this deployment's workers answer `workers status` now."""
        status = json.loads(self.cli("workers", "status", "--timeout", "1", "--json"))
        ours = f"bench-{self.tag}-"
        return sum(1 for worker in status["workers"] if worker["name"].startswith(ours))

    def stop_workers(self) -> None:
        for worker in self.workers:
            with suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown: the slice in hand
        for worker in self.workers:
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        self.workers.clear()


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path, state: dict[str, Any]) -> None:
        self.args = args
        self.home = home
        self.ct: manager.Sandbox = state[manager.COMMERCETOOLS]
        self.cl: manager.Sandbox = state[manager.COMMERCELAYER]
        self.admin = httpx.Client(timeout=600)
        self.rows: list[Row] = []
        self.current: Deployment | None = None

    # -- PostgreSQL and the broker -------------------------------------------------------------

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh PostgreSQL database's URL, dropped afterwards."""
        name = f"cartwire_bench_{secrets.token_hex(6)}"
        with psycopg.connect(self.args.postgres, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = make_url(self.args.postgres).set(drivername="postgresql+psycopg", database=name)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with psycopg.connect(self.args.postgres, autocommit=True) as admin:
                drop = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
                admin.execute(sql.SQL(drop).format(sql.Identifier(name)))

    def delete_queue(self, queue: str) -> None:
        broker = self.args.broker
        with Connection(broker) as connection:
            channel = connection.default_channel
            Queue(queue, Exchange(queue), queue)(channel).delete()
            Exchange(queue)(channel).delete()
        if broker.startswith("redis"):  # kombu keeps the exchange's bindings beside the queue
            bindings = (f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
            redis.Redis.from_url(broker).delete(*bindings)

    # -- the sandboxes' admin API --------------------------------------------------------------

    def set_limits(self, profile: str) -> None:
        """Commerce Layer's rate-limit profile (switching it also empties the windows)."""
        url = f"{self.cl.url}/_sandbox/config"
        self.admin.patch(url, json={"rate_limits": profile}).raise_for_status()

    def clear_counters(self) -> None:
        for sandbox in (self.ct, self.cl):
            self.admin.delete(f"{sandbox.url}/_sandbox/counters").raise_for_status()

    def counters(self, sandbox: manager.Sandbox) -> dict[str, Any]:
        found: dict[str, Any] = self.admin.get(f"{sandbox.url}/_sandbox/counters").json()
        return found

    def verify(self, catalogue: Catalogue) -> Check:
        """Every sku and price of the catalogue in Commerce Layer once, with its amount (read
        with the limits off, so the check does not wait on the windows)."""
        self.set_limits("off")
        variants = [v for p in catalogue.products() for v in p.variants]
        with api_client(self.cl) as client:
            skus = [a["code"] for a in all_attributes(client, "skus", "code")]
            prices = all_attributes(client, "prices", "sku_code,currency_code,amount_cents")
        want_prices = {(v.sku, cur): cents for v in variants for cur, cents in v.prices.items()}
        check = Check(expected=len(variants) + len(want_prices))
        for present, expected in (
            (Counter(skus), {v.sku for v in variants}),
            (Counter((p["sku_code"], p["currency_code"]) for p in prices), set(want_prices)),
        ):
            check.lost += len(expected - set(present))
            check.duplicated += sum(n - 1 for n in present.values())
            check.unexpected += len(set(present) - expected)
        check.wrong = sum(
            1
            for p in prices
            if (p["sku_code"], p["currency_code"]) in want_prices
            and want_prices[(p["sku_code"], p["currency_code"])] != p["amount_cents"]
        )
        return check

    # -- one configuration ---------------------------------------------------------------------

    def configuration(self, workers: int, limits: str) -> None:
        products = self.args.products
        say(f"\n{workers} worker(s), Commerce Layer limits {limits}, {products:,} products")
        tag = secrets.token_hex(4)
        queue = f"cartwire-bench-{tag}"
        with self.database() as database_url:
            env = {
                "CARTWIRE_HOME": str(self.home),
                "CARTWIRE_DATABASE_URL": database_url,
                "CARTWIRE_BROKER_URL": self.args.broker,
                "CARTWIRE_QUEUE": queue,
            }
            deployment = Deployment(self.home, env, database_url, tag)
            self.current = deployment
            try:
                self._measure(deployment, workers, limits, products)
            finally:
                deployment.stop_workers()
                self.current = None
                self.delete_queue(queue)

    def _measure(self, deployment: Deployment, workers: int, limits: str, products: int) -> None:
        catalogue = Catalogue(SEED, products, customers=4, orders=2)
        started = time.perf_counter()
        seed(catalogue, self.ct, self.cl)  # resets both sandboxes (and CL's config)
        with Store.open(deployment.database_url) as store:
            connect_sandboxes(store, self.ct, self.cl)
        say(f"  seeded and connected in {time.perf_counter() - started:.1f} s")

        deployment.start_workers(workers)
        ready = time.monotonic()
        while deployment.answering() < workers:
            if time.monotonic() - ready > READY_DEADLINE:
                raise SystemExit(f"the workers did not all answer within {READY_DEADLINE} s")
        say(f"  {workers} worker(s) answering after {time.monotonic() - ready:.1f} s")
        self.set_limits(limits)
        self.clear_counters()
        sampler = PeakSampler([w.pid for w in deployment.workers])

        started = time.perf_counter()
        queued = json.loads(deployment.cli("flows", "run", FLOW, "--queue", "--json"))
        run, shards = self._follow(deployment.database_url, int(queued["run_id"]))
        seconds = time.perf_counter() - started
        rss = sampler.stop()
        ct, cl = self.counters(self.ct), self.counters(self.cl)
        written = run.counts.get("created", 0) + run.counts.get("updated", 0)
        say(
            f"  run {run.id} {run.status} ({shards or 'no'} shards): "
            f"{dict(sorted(run.counts.items()))} in {seconds:.1f} s; "
            f"requests: commercetools {ct['api_requests']:,}, Commerce Layer "
            f"{cl['api_requests']:,}; token requests {ct['token_requests']} + "
            f"{cl['token_requests']}; 429s {cl['throttled']}"
        )
        say(f"  Commerce Layer requests by route: {by_route(cl['paths'])}")
        if run.status != "succeeded":
            say(f"  run {run.id} did not succeed: {run.error or run.counts}")
        check = self.verify(catalogue)
        say(f"  check: {check}")
        self.rows.append(
            Row(
                workers,
                limits,
                products,
                run.status,
                shards,
                written,
                seconds,
                ct["token_requests"] + cl["token_requests"],
                cl["throttled"],
                rss,
                check,
            )
        )

    def _follow(self, database_url: str, run_id: int) -> tuple[Run, int]:
        """The run once it has ended, polled in the store as `runs show` would, and how many
        shards it was cut into."""
        deadline = time.monotonic() + RUN_DEADLINE
        with Store.open(database_url) as store:
            while time.monotonic() < deadline:
                run = store.runs.get(run_id)
                if run.status in FINISHED:
                    return run, len(store.runs.shards(run_id))
                time.sleep(0.5)
        raise SystemExit(f"run {run_id} did not end within {RUN_DEADLINE:.0f} s")

    # -- the table -----------------------------------------------------------------------------

    def table(self) -> str:
        base = {r.limits: r.per_second for r in self.rows if r.workers == 1}
        lines = [
            "| workers | CL limits | products | status | shards | records written | wall s "
            "| records/s | scaling vs 1 | token requests | 429s | peak RSS MB per worker "
            "| lost / duplicated / wrong |",
            "|--:|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|",
        ]
        for row in self.rows:
            ratio = f"{row.per_second / base[row.limits]:.2f}x" if base.get(row.limits) else "-"
            rss = ", ".join(f"{mb:,.0f}" for mb in row.rss_mb)
            check = row.check
            lines.append(
                f"| {row.workers} | {row.limits} | {row.products:,} | {row.status} | {row.shards} "
                f"| {row.written:,} | {row.seconds:,.1f} | {row.per_second:,.1f} | {ratio} "
                f"| {row.tokens} | {row.throttled} | {rss} "
                f"| {check.lost} / {check.duplicated} / {check.wrong} |"
            )
        lines += [
            "",
            "- wall s: from `flows run --queue` to the run's end in the store (workers already "
            "up); records written: created + updated skus and prices",
            "- token requests (commercetools + Commerce Layer) and 429s: the sandboxes' "
            "`/_sandbox/counters`",
            "- peak RSS: VmHWM summed over each worker's process tree (main + pool process)",
            f"- this machine: {os.cpu_count()} CPU(s) shared with the sandboxes and PostgreSQL; "
            "scaling past that many workers is bounded by the machine",
        ]
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--limits", default="off,live", help="comma-separated: off, test, live")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    profiles = args.limits.split(",")
    if bad := set(profiles) - {"off", "test", "live"}:
        parser.error(f"unknown limits {sorted(bad)}")

    home = Path(tempfile.mkdtemp(prefix="cartwire-bench-workers-"))
    os.environ["CARTWIRE_HOME"] = str(home)
    os.environ.pop("CARTWIRE_DATABASE_URL", None)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    bench: Bench | None = None
    interrupted = False
    try:
        state = manager.up(manager.Options(cl_rate_limits="off"))
        bench = Bench(args, home, state)
        say(f"sandboxes up in {home}; workers {counts}, limits {profiles}")
        for limits in profiles:
            for workers in counts:
                bench.configuration(workers, limits)
    except KeyboardInterrupt:
        interrupted = True
        say("\ninterrupted: stopping the workers and the sandboxes")
    finally:
        if bench is not None and bench.current is not None:
            bench.current.stop_workers()
        stopped = manager.down()
        shutil.rmtree(home, ignore_errors=True)
        say(f"stopped the sandboxes: {', '.join(stopped) or 'none running'}")
    if bench is not None and bench.rows:
        print()
        print(bench.table())
    print(f"\nwhole benchmark: {time.perf_counter() - started:,.1f} s")
    if interrupted:
        raise SystemExit(130)


if __name__ == "__main__":
    main()
