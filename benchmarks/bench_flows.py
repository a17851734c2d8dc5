"""The flow benchmarks of issue 6: `ct-products-to-cl-skus` between the two sandboxes, with the
Commerce Layer emulator at its real *live* limits (1,000 cacheable GETs and 200 writes a minute).

    .venv/bin/python -m benchmarks.bench_flows [--products 2000] [--per-record-products 100]
        [--kill-products 160] [--skip imports per-record incremental kill]
        [--rate-limits live|test|off]

Starts both sandboxes in a throwaway CARTWIRE_HOME (stopped again at the end, on Ctrl-C too),
seeds them with `cartwire.sandbox.seed.seed` and adds the two sandbox instances (the flow derives
its lookup table from the price lists) with `cartwire.demo.connect_sandboxes`. Scenarios:

1. `imports`: the prebuilt flow as it is, in this process, for `--products` products. Its
   `batch_size: 5000` puts more than `bulk_threshold` (100) writes in one upsert, so skus and
   prices go through the Imports API; the destination lookups (25 keys a GET) are cacheable
   GETs under the 1,000/min limit.
2. `per-record`: a copy of the flow (`$CARTWIRE_HOME/flows/ct-products-to-cl-skus-per-record
   .yaml`) with `settings.batch_size: 50`, below the bulk threshold, so every record is a POST
   under the 200 writes/min limit; on `--per-record-products` products of a freshly seeded pair
   of sandboxes (`seed` resets both and loads the price lists eur/usd/gbp and the shipping
   category `merchandise` the flow writes to, which are checked first).
3. `incremental`: after scenario 1 (run first, unmeasured, if it was skipped), twice in a row:
   10 products get a new name in commercetools (`changeName` + `publish` over HTTP) and the
   flow runs again. The runner is built with `settle=timedelta(0)`: the default 60 s settle
   margin would re-read every product written within a minute of the cursor, which a
   bulk-seeded catalogue all is. The first run starts once scenario 1's rate-limit windows
   have drained (62 s after it ended), as a scheduled run would find them, from the cursor the
   full run left: the newest change its read saw (the cursor only moves once a read has
   finished), so it reads the changed products and the few modified at that same instant. The
   second starts from the first one's cursor: the steady state of a schedule.
4. `kill`: `cartwire flows run` as a subprocess (the kill test's flow: pages of 20, batches of
   40), SIGKILLed at random moments 10 times, alternately continued with `cartwire runs resume`
   and a fresh `flows run`, then finished; compared with one clean run of the same size from
   the same seeded state. Per-record writes at live limits would take ~10 min per run for 160
   products, so this scenario switches the limits `off` when a run would take more than three
   minutes at the chosen ones (it says so). Verified against the catalogue like
   `tests/flows/test_kill_resume.py`: every sku and (sku, currency) price present once with the
   catalogue's amount; "lost" is expected minus present, "duplicated" present minus distinct.

Figures per scenario: records written (created + updated outputs: skus and prices), wall time,
records/s, API requests counted at the sandboxes (`/_sandbox/counters`, commercetools +
Commerce Layer, token requests apart), requests per record, 429s, and peak RSS.
- 429s are counted at the client: in this process the instances' shared `ApiClient` is held
  open for the run and its `ApiStats.statuses[429]` read; the kill scenario's CLI processes run
  through a bootstrap that wraps `cartwire.http.client._Call.judge` and appends a line to a file
  per 429 answer (one `write` each, so a SIGKILL loses none). The sandbox counters count 429s
  too but do not split by status.
- Peak RSS: VmHWM of this process, reset through `/proc/self/clear_refs` after seeding so it
  covers the run only; for the kill scenario, the largest VmHWM of the CLI processes, sampled
  every 50 ms.
After each scenario the Commerce Layer records are read back with the limits briefly `off`
(after the counters were taken) to print lost/duplicated/wrong records.

100,000 products at live limits, measured (`--products 100000 --skip per-record kill`, 2
shared CPUs, other work running; 18.5 min in all, seeding included):
- With Imports: 1,198,716 records written in 896.8 s (14.9 min, 1,337 records/s), 15,704
  requests (0.013 per record: 14,503 cacheable GETs, 800 import POSTs, 200 uncacheable GETs,
  201 commercetools pages), no 429, peak RSS 153 MB, read back: lost 0, duplicated 0, wrong 0.
  The live limits allow those requests in no less than 840 s: the run went at 94 % of the
  ceiling the platform sets. The same run with lookups of 25 keys a filter and batches of
  1,000 (before 100 and 5,000) took 3,645.9 s and 63,046 requests: 4.1x longer, no 429.
- Without Imports: one POST per record at 200 writes/min, ~1.2 million records take ~100 hours
  (measured: 1,224 records in 375.1 s, 3.3 records/s, 1.08 requests per record).
"""

import argparse
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import yaml

from cartwire.demo import CL_INSTANCE, CT_INSTANCE, connect_sandboxes
from cartwire.flows.catalog import find
from cartwire.flows.runner import FlowRunner
from cartwire.home import data_dir
from cartwire.sandbox import manager
from cartwire.sandbox.catalogue import Catalogue, Product
from cartwire.sandbox.clients import all_attributes, api_client
from cartwire.sandbox.commercelayer.ratelimit import CACHEABLE_TYPES, PROFILES
from cartwire.sandbox.seed import seed
from cartwire.services.clients import open_platform, opener
from cartwire.store import Store
from cartwire.store.runs import Run

FLOW = "ct-products-to-cl-skus"
PER_RECORD_FLOW = f"{FLOW}-per-record"
KILL_FLOW, CLEAN_FLOW = "bench-kill", "bench-kill-clean"
SCENARIOS = ("imports", "per-record", "incremental", "kill")
SEED = 6
CHANGED = 10
KILLS = 10
TARGET_PRODUCTS = 100_000
DRAIN_SECONDS = 62.0  # the client's moving windows: 60 s + its 0.5 s margin, rounded up, + 1
KILL_LIMIT_MINUTES = 3.0

# `cartwire …` with every 429 the API client sees appended to $BENCH_429_LOG, one line each.
CLI_BOOTSTRAP = """
import os, sys
from cartwire.http import client

_judge = client._Call.judge

def judge(self, response):
    if response.status_code == 429:
        fd = os.open(os.environ["BENCH_429_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, b"429\\n")
        os.close(fd)
    return _judge(self, response)

client._Call.judge = judge
from cartwire.cli.app import main
sys.argv[0] = "cartwire"
main()
"""


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
    scenario: str
    products: int
    written: int
    seconds: float
    ct_requests: int
    cl_requests: int
    rate_limited: int
    rss_mb: float
    limits: str
    check: Check | None = None

    @property
    def requests(self) -> int:
        return self.ct_requests + self.cl_requests


@dataclass
class Counts:
    """What the sandboxes counted since their counters were last cleared."""

    ct_paths: dict[str, int]
    cl_paths: dict[str, int]
    tokens: int

    @property
    def ct(self) -> int:
        return sum(self.ct_paths.values())

    @property
    def cl(self) -> int:
        return sum(self.cl_paths.values())

    def cl_classes(self) -> Counter[str]:
        """Commerce Layer requests by rate-limit class, as the platform classifies them."""
        classes = Counter[str]()
        for route, n in self.cl_paths.items():
            method, path = route.split(" ", 1)
            parts = [p for p in path.split("/") if p]
            resource_type = parts[1] if len(parts) > 1 and parts[0] == "api" else ""
            if method not in ("GET", "HEAD"):
                classes["write"] += n
            elif resource_type in CACHEABLE_TYPES:
                classes["cacheable"] += n
            else:
                classes["uncacheable"] += n
        return classes

    def cl_by_route(self) -> str:
        """`GET skus 123, POST imports 4, …`, ids folded into `{id}`."""
        folded = Counter[str]()
        for route, n in self.cl_paths.items():
            method, path = route.split(" ", 1)
            parts = [p for p in path.split("/") if p][1:]
            folded[f"{method} {'/'.join(parts[:1] + ['{id}'] * (len(parts) > 1))}"] += n
        return ", ".join(f"{k} {n:,}" for k, n in folded.most_common())


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def say(text: str) -> None:
    print(text, flush=True)


def reset_peak_rss() -> None:
    """VmHWM back to the current RSS (Linux ≥ 4.0), so the next reading covers what follows."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min" if seconds >= 90 else f"{seconds:,.0f} s"


class Bench:
    def __init__(self, args: argparse.Namespace, store: Store, state: dict[str, Any]) -> None:
        self.args = args
        self.store = store
        self.runs = store.runs
        self.ct: manager.Sandbox = state[manager.COMMERCETOOLS]
        self.cl: manager.Sandbox = state[manager.COMMERCELAYER]
        self.limits: str = args.rate_limits
        self.admin = httpx.Client(timeout=600)
        self.rows: dict[str, list[Row]] = {}
        self.catalogue: Catalogue | None = None  # what the sandboxes were last seeded with
        self.full_done_at: float | None = None  # when scenario 1's run ended (monotonic)
        self.child: subprocess.Popen[bytes] | None = None

    # -- the sandboxes' admin API ------------------------------------------------------------

    def set_limits(self, profile: str) -> None:
        """Switch Commerce Layer's rate limits (which also empties the server's windows)."""
        url = f"{self.cl.url}/_sandbox/config"
        self.admin.patch(url, json={"rate_limits": profile}).raise_for_status()

    def clear_counters(self) -> None:
        for sandbox in (self.ct, self.cl):
            self.admin.delete(f"{sandbox.url}/_sandbox/counters").raise_for_status()

    def counts(self) -> Counts:
        ct = self.admin.get(f"{self.ct.url}/_sandbox/counters").json()
        cl = self.admin.get(f"{self.cl.url}/_sandbox/counters").json()
        # The commercetools sandbox also lists `POST /oauth/token` among its paths.
        ct_paths = {k: n for k, n in ct["paths"].items() if not k.endswith("/oauth/token")}
        cl_paths = {k: n for k, n in cl["paths"].items() if not k.endswith("/oauth/token")}
        return Counts(ct_paths, cl_paths, ct["token_requests"] + cl["token_requests"])

    def seed(self, products: int) -> Catalogue:
        """Both sandboxes reset and seeded; Commerce Layer back at the benchmark's limits."""
        catalogue = Catalogue(SEED, products, customers=4, orders=2)
        started = time.perf_counter()
        seed(catalogue, self.ct, self.cl)  # resets both (and CL's config to its start values)
        self.set_limits(self.limits)
        self.catalogue = catalogue
        variants = sum(len(p.variants) for p in catalogue.products())
        say(
            f"  seeded {products:,} products ({variants:,} variants) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        self._check_cl_baseline()
        return catalogue

    # -- plain HTTP to the platforms (not through cartwire) ------------------------------------

    def _check_cl_baseline(self) -> None:
        """What the flow writes to: price lists eur/usd/gbp and shipping category merchandise."""
        with self.unlimited(), api_client(self.cl) as client:
            lists = {a["code"] for a in all_attributes(client, "price_lists", "code")}
            categories = {a["code"] for a in all_attributes(client, "shipping_categories", "code")}
        missing = ({"eur", "usd", "gbp"} - lists) | ({"merchandise"} - categories)
        if missing:
            raise SystemExit(f"the seeded Commerce Layer sandbox lacks {sorted(missing)}")

    @contextmanager
    def unlimited(self) -> Iterator[None]:
        """Commerce Layer's limits off for the benchmark's own reads, then back."""
        self.set_limits("off")
        try:
            yield
        finally:
            self.set_limits(self.limits)

    def verify(self, catalogue: Catalogue) -> Check:
        """Every sku and price of the catalogue in Commerce Layer once, with its amount."""
        variants = [v for p in catalogue.products() for v in p.variants]
        with self.unlimited(), api_client(self.cl) as client:
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

    # -- in-process runs -----------------------------------------------------------------------

    def run_in_process(
        self, name: str, label: str, products: int, settle: timedelta | None = None
    ) -> tuple[Row, Run, Counts]:
        flow_file = find(name)
        extra = {} if settle is None else {"settle": settle}
        runner = FlowRunner(
            self.store,
            flow_file.flow,
            flow_file.text,
            CT_INSTANCE,
            CL_INSTANCE,
            open=opener(self.store),
            **extra,
        )
        # Holding both instances open keeps the runner on these same shared ApiClients, whose
        # stats then count every 429 the run was answered.
        with (
            open_platform(self.store, CT_INSTANCE) as ct,
            open_platform(self.store, CL_INSTANCE) as cl,
        ):
            before = ct.api.stats.statuses[429] + cl.api.stats.statuses[429]
            sent = ct.api.stats.sent + cl.api.stats.sent
            self.clear_counters()
            reset_peak_rss()
            started = time.perf_counter()
            run = runner.run()
            seconds = time.perf_counter() - started
            rss = peak_rss_mb()
            limited = ct.api.stats.statuses[429] + cl.api.stats.statuses[429] - before
            sent = ct.api.stats.sent + cl.api.stats.sent - sent
        counts = self.counts()
        written = run.counts.get("created", 0) + run.counts.get("updated", 0)
        row = Row(
            label, products, written, seconds, counts.ct, counts.cl, limited, rss, self.limits
        )
        say(
            f"  run {run.id} {run.status}: {dict(sorted(run.counts.items()))} in {seconds:.1f} s; "
            f"requests: commercetools {counts.ct:,}, Commerce Layer {counts.cl:,} "
            f"({counts.cl_by_route()}); token requests {counts.tokens}; the clients sent {sent:,}, "
            f"429s {limited}"
        )
        if run.status != "succeeded":
            say(f"  run {run.id} did not succeed: {run.error or run.counts}")
        return row, run, counts

    def full_run(self) -> None:
        """Scenario 1: the prebuilt flow as it is (Imports for skus and prices)."""
        products = self.args.products
        say(f"\n1. full {FLOW} with Imports, {products:,} products, limits {self.limits}")
        self.seed(products)
        row, _, counts = self.run_in_process(FLOW, "1. full, with Imports", products)
        self.full_done_at = time.monotonic()
        self.rows["imports"] = [row]
        assert self.catalogue is not None
        row.check = self.verify(self.catalogue)
        say(f"  check: {row.check}")
        self._extrapolate(row, counts)

    def _extrapolate(self, row: Row, counts: Counts) -> None:
        """How long 100,000 products take at live limits, from this run's requests/product.

        The ceiling-bound minimum of n requests of a class with an average limit of A a minute:
        the first A may go at once, each further A a window later, so (ceil(n / A) - 1) minutes
        (per-endpoint bursts ignored); at 100,000 products that is about n / A minutes."""
        live = PROFILES["live"]
        ceilings = {
            "cacheable": live.cacheable_average,
            "uncacheable": live.average,
            "write": live.average,
        }
        scale = TARGET_PRODUCTS / row.products
        classes = counts.cl_classes()
        floor = own = 0.0
        parts = []
        for klass, per_minute in ceilings.items():
            own = max(own, max(0, math.ceil(classes[klass] / per_minute) - 1) * 60.0)
            needed = classes[klass] * scale
            floor = max(floor, needed / per_minute * 60)
            parts.append(
                f"{klass} {needed:,.0f} at {per_minute:,}/min = {minutes(needed / per_minute * 60)}"
            )
        say(
            f"  this run's Commerce Layer requests by class: {dict(classes)}; the live limits "
            f"allow them in no less than {own:.0f} s (the run took {row.seconds:.1f} s)"
        )
        linear = row.seconds * scale
        say(
            f"  100,000 products ≈ {row.written * scale:,.0f} records, "
            f"{row.requests * scale:,.0f} requests "
            f"({row.requests / max(row.written, 1):.3f}/record)"
            f": ceiling-bound minimum {minutes(floor)} ({'; '.join(parts)}); "
            f"this run's pace scaled linearly: {minutes(linear)}"
            + ("" if self.limits == "live" else f" (measured at limits {self.limits}, not live)")
        )

    def per_record(self) -> None:
        """Scenario 2: batch_size 50 (below the bulk threshold): every record a POST."""
        products = self.args.per_record_products
        say(f"\n2. full flow without Imports, {products:,} products, limits {self.limits}")
        document = yaml.safe_load(find(FLOW).text)
        document["name"] = PER_RECORD_FLOW
        document["settings"]["batch_size"] = 50
        folder = data_dir() / "flows"
        folder.mkdir(exist_ok=True)
        (folder / f"{PER_RECORD_FLOW}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        catalogue = self.seed(products)
        records = sum(len(v.prices) + 1 for p in catalogue.products() for v in p.variants)
        if self.limits != "off":
            per_minute = PROFILES[self.limits].average
            say(
                f"  {records:,} records, one POST each, at {per_minute} writes/min: at least "
                f"{minutes(max(0, records - per_minute) / per_minute * 60)}"
            )
        row, _, _ = self.run_in_process(PER_RECORD_FLOW, "2. full, without Imports", products)
        self.rows["per-record"] = [row]
        row.check = self.verify(catalogue)
        say(f"  check: {row.check}")

    def incremental(self) -> None:
        """Scenario 3: 10 products renamed in commercetools, the flow run again; twice."""
        say(f"\n3. incremental runs, {CHANGED} changed products each, settle margin 0 s")
        if self.full_done_at is None or self.catalogue is None:
            say("  scenario 1 was skipped: seeding and running the full flow first (unmeasured)")
            self.seed(self.args.products)
            self.run_in_process(FLOW, "prerequisite", self.args.products)
            self.full_done_at = time.monotonic()
        catalogue = self.catalogue
        assert catalogue is not None
        count = catalogue.product_count
        wait = self.full_done_at + DRAIN_SECONDS - time.monotonic()
        if wait > 0 and self.limits != "off":
            say(f"  waiting {wait:.0f} s for the full run's rate-limit windows to drain")
            time.sleep(wait)
        self.rows["incremental"] = []
        for attempt, label in enumerate(("first after the full run", "the next one")):
            numbers = sorted(
                {1 + (i * count + attempt * count // 20) // CHANGED for i in range(CHANGED)}
            )
            changed = [catalogue.product(n) for n in numbers]
            self._rename(changed, f" v{attempt + 2}")
            cursor = self.store.cursors.get(FLOW, CT_INSTANCE, CL_INSTANCE) or {}
            say(f"  {label}: cursor at {cursor.get('updated_at')}")
            row, run, _ = self.run_in_process(
                FLOW,
                f"3. incremental, {len(changed)} changed ({label})",
                len(changed),
                settle=timedelta(0),
            )
            self.rows["incremental"].append(row)
            variants = sum(len(p.variants) for p in changed)
            read = run.counts.get("read", 0)
            names = {f"{p.name_en} v{attempt + 2}" for p in changed}
            with self.unlimited(), api_client(self.cl) as cl:
                skus = all_attributes(cl, "skus", "code,name")
            renamed = sum(1 for s in skus if s["name"] in names)
            say(
                f"  read {read:,} products ({len(changed)} changed), wrote {row.written} records "
                f"(the changed products have {variants} skus; their prices did not change); "
                f"skus with the new names in Commerce Layer: {renamed} of {variants}"
            )

    def _rename(self, products: list[Product], suffix: str) -> None:
        """A new name for each product in commercetools: `changeName` + `publish`."""
        with api_client(self.ct) as ct:
            for product in products:
                found = ct.get("products", params={"where": f'key="{product.key}"'})
                found.raise_for_status()
                current = found.json()["results"][0]
                name = {"en": product.name_en + suffix, "de": product.name_de + suffix}
                body = {
                    "version": current["version"],
                    "actions": [{"action": "changeName", "name": name}, {"action": "publish"}],
                }
                ct.post(f"products/{current['id']}", json=body).raise_for_status()

    # -- the kill scenario (CLI subprocesses) --------------------------------------------------

    def _cli(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        env = {**os.environ, "BENCH_429_LOG": str(log)}
        self.child = subprocess.Popen(
            [sys.executable, "-c", CLI_BOOTSTRAP, *args, "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.child

    def _watch(self, process: subprocess.Popen[bytes], seconds: float | None) -> tuple[bool, float]:
        """Wait up to `seconds` (None: until it ends) for the child; (ended, its peak RSS in MB).

        The peak is the child's VmHWM sampled every 50 ms: `ru_maxrss` from `wait4` would report
        at least this process's RSS, which the child had before its `exec`."""
        deadline = None if seconds is None else time.monotonic() + seconds
        peak = 0.0
        while True:
            with suppress(OSError, ValueError):
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                self.child = None
                return True, peak
            if deadline is not None and time.monotonic() >= deadline:
                return False, peak
            time.sleep(0.05)

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        _, status, _ = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        self.child = None

    def _last_run(self, flow: str) -> Run | None:
        self.runs.mark_interrupted_if_dead()
        found = self.runs.recent(flow, 1)
        return found[0] if found else None

    def _kill_flow(self, name: str) -> None:
        document = yaml.safe_load(find(FLOW).text)
        document["name"] = name
        document["source"]["page_size"] = 20
        document["settings"]["batch_size"] = 40
        folder = data_dir() / "flows"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    def kill(self) -> None:
        """Scenario 4: SIGKILLed 10 times at random moments, resumed or re-run, finished."""
        products = self.args.kill_products
        catalogue = Catalogue(SEED, products, customers=4, orders=2)
        records = sum(len(v.prices) + 1 for p in catalogue.products() for v in p.variants)
        say(f"\n4. killed {KILLS} times and resumed, {products:,} products")
        profile = self.limits
        if profile != "off":
            per_minute = PROFILES[profile].average
            needed = max(0, records - per_minute) / per_minute * 60
            if needed > KILL_LIMIT_MINUTES * 60:
                say(
                    f"  {records:,} POSTs at {per_minute} writes/min would take "
                    f"{minutes(needed)} per run: Commerce Layer limits off for this scenario"
                )
                profile = "off"
        say(f"  Commerce Layer limits {profile}")
        for name in (KILL_FLOW, CLEAN_FLOW):
            self._kill_flow(name)
        saved, self.limits = self.limits, profile
        try:
            self._kill_scenario(catalogue, records)
        finally:
            self.limits = saved
            with suppress(httpx.HTTPError):
                self.set_limits(saved)

    def _run_to_end(self, flow: str, args: list[str], log: Path) -> tuple[Run, float]:
        process = self._cli(args, log)
        _, rss = self._watch(process, None)
        last = self._last_run(flow)
        if process.returncode != 0 or last is None or last.status != "succeeded":
            status = last.status if last else "none"
            raise SystemExit(f"`cartwire {' '.join(args)}` ended {process.returncode}, {status}")
        return last, rss

    def _kill_scenario(self, catalogue: Catalogue, records: int) -> None:
        home = data_dir()
        products = catalogue.product_count
        fresh = ["flows", "run", "--source", CT_INSTANCE, "--destination", CL_INSTANCE]

        # The reference: one clean run of the same size from the same seeded state.
        self.seed(products)
        self.clear_counters()
        clean_log = home / "clean-429.log"
        started = time.perf_counter()
        clean, clean_rss = self._run_to_end(
            CLEAN_FLOW, [*fresh[:2], CLEAN_FLOW, *fresh[2:]], clean_log
        )
        clean_seconds = time.perf_counter() - started
        clean_counts = self.counts()
        clean_429 = len(clean_log.read_text().splitlines()) if clean_log.exists() else 0
        clean_written = clean.counts.get("created", 0) + clean.counts.get("updated", 0)
        say(
            f"  clean run {clean.id}: {dict(sorted(clean.counts.items()))} in "
            f"{clean_seconds:.1f} s; requests {clean_counts.ct + clean_counts.cl:,} "
            f"(commercetools {clean_counts.ct:,}, Commerce Layer {clean_counts.cl:,}); "
            f"token requests {clean_counts.tokens}"
        )
        self.rows["kill"] = [
            Row(
                "4. clean run (reference)",
                products,
                clean_written,
                clean_seconds,
                clean_counts.ct,
                clean_counts.cl,
                clean_429,
                clean_rss,
                self.limits,
            )
        ]

        # The same from the same state, killed KILLS times. A kill lands after the process has
        # started (as long as `cartwire runs list` takes) and somewhere in the first 2 to 25 % of
        # the clean run's working time after that.
        started = time.perf_counter()
        self._watch(self._cli(["runs", "list"], home / "startup-429.log"), None)
        startup = time.perf_counter() - started
        work = max(0.5, clean_seconds - startup)
        say(f"  process start-up {startup:.1f} s, clean run's working time {work:.1f} s")
        self.seed(products)
        self.clear_counters()
        rng = random.Random(20261123)
        log = home / "kill-429.log"
        kills = attempts = resumed = 0
        peak = 0.0
        started = time.perf_counter()
        while kills < KILLS and attempts < KILLS * 4:
            last = self._last_run(KILL_FLOW)
            if last is not None and last.status in ("interrupted", "running") and attempts % 2:
                args = ["runs", "resume", str(last.id)]
                resumed += 1
            else:
                args = [*fresh[:2], KILL_FLOW, *fresh[2:]]
            attempts += 1
            process = self._cli(args, log)
            ended, rss = self._watch(process, startup + rng.uniform(0.02, 0.25) * work)
            if not ended:
                self._kill(process)
                kills += 1
            peak = max(peak, rss)
        last = self._last_run(KILL_FLOW)
        if last is not None and last.status in ("interrupted", "running"):
            finish = ["runs", "resume", str(last.id)]
        else:
            finish = [*fresh[:2], KILL_FLOW, *fresh[2:]]
        final, rss = self._run_to_end(KILL_FLOW, finish, log)
        seconds = time.perf_counter() - started
        peak = max(peak, rss)
        counts = self.counts()
        limited = len(log.read_text().splitlines()) if log.exists() else 0
        history = self.runs.recent(KILL_FLOW, 100)
        created = sum(r.counts.get("created", 0) for r in history)
        written = sum(r.counts.get("created", 0) + r.counts.get("updated", 0) for r in history)
        statuses = Counter(r.status for r in history)
        say(
            f"  {attempts} processes, {kills} SIGKILLed, {resumed} of them `runs resume`; "
            f"finished by `{' '.join(finish[:2])}` (run {final.id}); runs by status: "
            f"{dict(statuses)}; created across runs {created:,} of {records:,} records"
        )
        extra = counts.ct + counts.cl - clean_counts.ct - clean_counts.cl
        say(
            f"  requests {counts.ct + counts.cl:,} (commercetools {counts.ct:,}, Commerce Layer "
            f"{counts.cl:,}) vs {clean_counts.ct + clean_counts.cl:,} clean: {extra:+,} extra "
            f"({extra / max(1, clean_counts.ct + clean_counts.cl):+.0%}); token requests "
            f"{counts.tokens} vs {clean_counts.tokens}; wall {seconds:.1f} s vs "
            f"{clean_seconds:.1f} s"
        )
        check = self.verify(catalogue)
        say(f"  check: {check}")
        self.rows["kill"].append(
            Row(
                f"4. killed {kills} times and resumed",
                products,
                written,
                seconds,
                counts.ct,
                counts.cl,
                limited,
                peak,
                self.limits,
                check,
            )
        )

    def kill_child(self) -> None:
        if self.child is not None and self.child.returncode is None:
            with suppress(ProcessLookupError, ChildProcessError):
                self._kill(self.child)

    # -- the table ---------------------------------------------------------------------------

    def table(self) -> str:
        lines = [
            "| scenario | products | records written | wall s | records/s | requests (ct + CL) "
            "| requests/record | 429s | peak RSS MB | lost / duplicated | CL limits |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for scenario in SCENARIOS:
            for row in self.rows.get(scenario, []):
                per_second = row.written / row.seconds if row.seconds else 0.0
                per_record = f"{row.requests / row.written:.3f}" if row.written else "-"
                check = row.check
                lost = f"{check.lost} / {check.duplicated}" if check else "-"
                lines.append(
                    f"| {row.scenario} | {row.products:,} | {row.written:,} | {row.seconds:,.1f} "
                    f"| {per_second:,.1f} | {row.requests:,} ({row.ct_requests:,} + "
                    f"{row.cl_requests:,}) | {per_record} | {row.rate_limited} "
                    f"| {row.rss_mb:,.0f} | {lost} | {row.limits} |"
                )
        lines += [
            "",
            "- requests: API requests counted by the sandboxes, token requests apart; 429s: "
            "counted at the client (`ApiStats` in this process, a wrapped `_Call.judge` in the "
            "CLI processes); lost / duplicated: Commerce Layer read back against the catalogue",
            "- peak RSS: this process's VmHWM during the run; scenario 4: the largest VmHWM of "
            "its CLI processes",
        ]
        if "per-record" in self.rows and self.args.rate_limits != "off":
            per_minute = PROFILES[self.args.rate_limits].average
            lines.append(f"- scenario 2 is bound by Commerce Layer's {per_minute} writes/min")
        if "incremental" in self.rows:
            lines.append(
                "- scenario 3: runner settle margin 0 s; the first run re-reads what was modified "
                "after the cursor the full (id-ordered) read left, the next only the changes"
            )
        if "kill" in self.rows:
            lines.append(
                "- scenario 4: records written counts committed pages only (a page a kill cut "
                "short is repeated and counted as unchanged)"
            )
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--per-record-products", type=int, default=100)
    parser.add_argument("--kill-products", type=int, default=160)
    parser.add_argument("--skip", nargs="+", choices=SCENARIOS, default=[], metavar="SCENARIO")
    parser.add_argument("--rate-limits", choices=("live", "test", "off"), default="live")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cartwire-bench-flows-"))
    os.environ["CARTWIRE_HOME"] = str(home)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    bench: Bench | None = None
    store: Store | None = None
    interrupted = False
    try:
        state = manager.up(manager.Options(cl_rate_limits=args.rate_limits))
        store = Store.open()
        connect_sandboxes(store, state[manager.COMMERCETOOLS], state[manager.COMMERCELAYER])
        bench = Bench(args, store, state)
        say(
            f"sandboxes up in {home} (Commerce Layer rate limits {args.rate_limits}); "
            f"skipping {', '.join(args.skip) or 'nothing'}"
        )
        if "imports" not in args.skip:
            bench.full_run()
        if "incremental" not in args.skip:
            bench.incremental()
        if "per-record" not in args.skip:
            bench.per_record()
        if "kill" not in args.skip:
            bench.kill()
    except KeyboardInterrupt:
        interrupted = True
        say("\ninterrupted: stopping the sandboxes")
    finally:
        if bench is not None:
            bench.kill_child()
        if store is not None:
            store.close()
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
