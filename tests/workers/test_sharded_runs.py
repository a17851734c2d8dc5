"""Sharded runs on real `cartwire worker` processes, PostgreSQL and Redis: a full read of the
prebuilt product flow cut into commercetools id ranges, read at once by several workers, ends as
the sum of its shards with every record in the destination once; and it does so while workers
are killed with SIGKILL again and again at the moments they announce a slice."""

import json
import os
import random
import signal
from collections import Counter
from typing import Any

import pytest

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from cartwire.store.runs import COUNTS, FINISHED, Run
from tests.flows.triggers_support import wait_for
from tests.flows.world import World
from tests.support import run_cli
from tests.workers.conftest import FLOW, PAGE, Deployment, seeded
from tests.workers.test_queued_runs import RUN

DEADLINE = 600  # seconds a sharded run may take to end, on a loaded machine
# pytest's own limit stays past the waits (a kill count, then the run's end), so a stuck run
# fails with `_story` rather than with a bare timeout
pytestmark = pytest.mark.timeout(2 * DEADLINE + 120)
SHARDS = 4
KILLS = 10
SMALL = ("--shard-records", "1")  # the catalogues here are small: cut them all the same


def _ended(store: Store, run_id: int) -> Run | None:
    run = store.runs.get(run_id)
    return run if run.status in FINISHED else None


def _story(store: Store, run_id: int) -> str:
    """Where a run and its shards are, and the last lines of its log: what a stuck wait says."""
    runs = [store.runs.get(run_id), *store.runs.shards(run_id)]
    states = [f"run {r.id}: {r.status} slice {r.slice_no} owner {r.owner}" for r in runs]
    lines = [line.message for line in store.run_logs.of(run_id)][-15:]
    return "\n".join([*states, *lines])


def _queued(deployment: Deployment) -> int:
    queued = run_cli(deployment.home, *RUN, "--queue", env=deployment.env)
    assert queued.returncode == 0, queued.stderr
    run_id: int = json.loads(queued.stdout)["run_id"]
    return run_id


def _expected(catalogue: Catalogue) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    variants = [v for p in catalogue.products() for v in p.variants]
    return Counter(v.sku for v in variants), Counter(
        (v.sku, currency) for v in variants for currency in v.prices
    )


def _destination(world: World) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """What the flow wrote to Commerce Layer, read back: each sku code and (sku, currency)
    price as often as it is there."""
    skus = Counter(s["attributes"]["code"] for s in world.cl_all("skus"))
    prices = Counter(
        (p["attributes"]["sku_code"], p["attributes"]["currency_code"])
        for p in world.cl_all("prices")
    )
    return skus, prices


def _summed(shards: list[Run]) -> dict[str, int]:
    return {k: sum(s.counts.get(k, 0) for s in shards) for k in COUNTS}


def _checked(
    store: Store, world: World, catalogue: Catalogue, products: int, run: Run
) -> list[Run]:
    """The run and its shards as a finished sharded run must be; its shards."""
    shards = store.runs.shards(run.id)
    assert run.status == "succeeded", (run.error, [(s.id, s.status, s.error) for s in shards])
    assert len(shards) == SHARDS
    assert all(s.status == "succeeded" for s in shards)
    assert {k: run.counts[k] for k in COUNTS} == _summed(shards)  # the sum of its shards
    skus, prices = _expected(catalogue)
    assert _destination(world) == (skus, prices)  # every record once: nothing lost or doubled
    written = sum(run.counts[k] for k in ("created", "updated", "unchanged"))
    assert (run.counts["read"], run.counts["failed"]) == (products, 0)
    assert written == sum(skus.values()) + sum(prices.values())
    return shards


def test_a_full_read_in_shards_on_three_workers_is_the_sum_of_its_shards(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=21, products=6 * PAGE, customers=2, orders=1)
    skus, prices = _expected(catalogue)
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        deployment.start_workers(3, "--slice-pages", "1", "--shards", str(SHARDS), *SMALL)
        run_id = _queued(deployment)
        run = wait_for(
            lambda: _ended(store, run_id),
            DEADLINE,
            "the sharded run to end",
            lambda: _story(store, run_id),
        )
        shards = _checked(store, world, catalogue, 6 * PAGE, run)
        assert run.counts["created"] == sum(skus.values()) + sum(prices.values())
        cut = [line.message for line in store.run_logs.of(run_id) if "shards" in line.message]
        assert cut == [f"cut into {SHARDS} shards: runs {', '.join(str(s.id) for s in shards)}"]
        shown = run_cli(deployment.home, "runs", "show", str(shards[0].id), env=deployment.env)
        assert f"shard of run {run_id}" in shown.stdout
        shown = run_cli(
            deployment.home, "runs", "show", str(shards[0].id), "--json", env=deployment.env
        )
        assert json.loads(shown.stdout)["shard_of"] == run_id
        # the cursor moved once every shard had read its part: the next run reads nothing new
        assert store.cursors.get(FLOW, run.source, run.destination) is not None
        again = wait_for(lambda: _ended(store, _queued(deployment)), DEADLINE, "the next run")
        assert (again.status, again.counts["created"], store.runs.shards(again.id)) == (
            "succeeded",
            0,
            [],
        )


def _slice_holders(store: Store, runs: list[int]) -> list[tuple[int, int, str]]:
    """(log line id, run id, owner) of every slice taken so far of these runs, as announced in
    their logs: `slice N on HOST:PID:START (fencing token T)`. A run's log holds its shards'
    lines too, so each line is the first run's of `runs` whose log has it."""
    found: dict[int, tuple[int, int, str]] = {}
    for run_id in runs:
        for line in store.run_logs.of(run_id):
            if line.message.startswith("slice ") and " on " in line.message:
                owner = line.message.split(" on ")[1].split(" ")[0]
                found.setdefault(line.id, (line.id, run_id, owner))
    return list(found.values())


class Killer:
    """Kills the process of a slice (a worker's pool process; Celery starts another) at a
    point it announced, chosen at random for each slice taken: as it announces the slice
    (`slice N on …` in its shard's log), at the next page it commits (its shard's checkpoint
    moves: the kill lands while it reads or writes the page after), or not at all."""

    def __init__(self, store: Store, run_id: int, seed: int) -> None:
        self.store, self.run_id = store, run_id
        self.chance = random.Random(seed)
        self.seen: set[int] = set()
        self.at_page: dict[int, tuple[str, Any]] = {}  # shard -> (holder, checkpoint then)
        self.kills: Counter[str] = Counter()

    def __call__(self) -> bool:
        """One look: kill what is due; whether enough were killed or the run ended."""
        runs = [*(s.id for s in self.store.runs.shards(self.run_id)), self.run_id]
        for line_id, run_id, owner in _slice_holders(self.store, runs):
            if line_id in self.seen:
                continue
            self.seen.add(line_id)
            draw = self.chance.random()
            if draw < 0.4:
                self._kill(owner, "as it announced its slice")
            elif draw < 0.85:
                self.at_page[run_id] = (owner, self.store.runs.get(run_id).checkpoint)
        for run_id, (owner, checkpoint) in list(self.at_page.items()):
            now = self.store.runs.get(run_id)
            if now.owner != owner:  # its slice ended (or was taken over) meanwhile
                del self.at_page[run_id]
            elif now.checkpoint != checkpoint:
                del self.at_page[run_id]
                self._kill(owner, "after a page it committed")
        return sum(self.kills.values()) >= KILLS or _ended(self.store, self.run_id) is not None

    def _kill(self, owner: str, when: str) -> None:
        if sum(self.kills.values()) >= KILLS:
            return
        try:
            os.kill(int(owner.split(":")[1]), signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills[when] += 1


def test_workers_killed_ten_times_during_a_sharded_run_lose_and_double_nothing(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=22, products=20 * PAGE, customers=2, orders=1)
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        deployment.start_workers(3, "--slice-pages", "3", "--shards", str(SHARDS), *SMALL)
        run_id = _queued(deployment)
        killer = Killer(store, run_id, seed=22)
        wait_for(killer, DEADLINE, f"{KILLS} kills", lambda: _story(store, run_id))
        run = wait_for(
            lambda: _ended(store, run_id),
            DEADLINE,
            "the sharded run to end",
            lambda: _story(store, run_id),
        )
        _checked(store, world, catalogue, 20 * PAGE, run)
        slices = _slice_holders(store, [run_id])  # its log holds its shards' lines
        print(
            f"\nkill test: {sum(killer.kills.values())} SIGKILLs of workers' slice processes "
            f"({', '.join(f'{n} {when}' for when, n in killer.kills.items())}); "
            f"{len(slices)} slices taken over {SHARDS} shards; {run.counts['read']} products "
            f"read once; {sum(sum(c.values()) for c in _destination(world))} records in the "
            f"destination, each once (created {run.counts['created']}, found unchanged "
            f"{run.counts['unchanged']} where a killed slice had written them)"
        )
        assert sum(killer.kills.values()) >= KILLS, "the run ended before enough kills"


def test_stopping_a_sharded_run_stops_its_shards(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    catalogue = Catalogue(seed=23, products=20 * PAGE, customers=2, orders=1)
    with deployment.store() as store:
        seeded(deployment.home, catalogue, ct, cl, store)
        deployment.start_workers(1, "--slice-pages", "1", "--shards", str(SHARDS), *SMALL)
        run_id = _queued(deployment)
        wait_for(lambda: store.runs.shards(run_id), DEADLINE, "the run to be cut")
        store.runs.request_stop(run_id)  # 20 pages to go, one a slice, on one worker
        run = wait_for(lambda: _ended(store, run_id), DEADLINE, "the sharded run to stop")
        shards = store.runs.shards(run_id)
        assert run.status == "stopped"
        assert [s.status for s in shards] == ["stopped"] * SHARDS
        assert {k: run.counts[k] for k in COUNTS} == _summed(shards)
        assert run.counts["read"] < 20 * PAGE
        assert store.runs.active(FLOW) == []  # the binding's lock given up with the run


def _ct_emails(world: World) -> Counter[str]:
    """Each commercetools customer's email, as often as it is there."""
    with world.ct_client() as client:
        found = client.get("customers", params={"limit": "500"}).json()
    assert found["total"] == found["count"], "more customers than one page"
    return Counter(c["email"] for c in found["results"])


def test_a_commerce_layer_read_is_cut_where_the_emulator_says(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    """Commerce Layer ids are opaque: the cut points come from the server (a count, then the
    record a shard's length past each cut), and the shards read every customer once."""
    catalogue = Catalogue(seed=24, products=2, customers=400, orders=1)
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        emails = Counter(c["attributes"]["email"] for c in world.cl_all("customers"))
        before = _ct_emails(world)
        deployment.start_workers(2, "--slice-pages", "1", "--shards", "3", "--shard-records", "25")
        flow = "cl-customers-to-ct-customers"
        args = ("flows", "run", flow, "--source", CL_INSTANCE, "--destination", CT_INSTANCE)
        queued = run_cli(deployment.home, *args, "--json", "--queue", env=deployment.env)
        assert queued.returncode == 0, queued.stderr
        run_id = json.loads(queued.stdout)["run_id"]
        run = wait_for(
            lambda: _ended(store, run_id),
            DEADLINE,
            "the sharded run to end",
            lambda: _story(store, run_id),
        )
        shards = store.runs.shards(run_id)
        assert run.status == "succeeded", (run.error, [(s.status, s.error) for s in shards])
        assert [s.status for s in shards] == ["succeeded"] * 3
        assert {k: run.counts[k] for k in COUNTS} == _summed(shards)
        assert run.counts["read"] == sum(emails.values()) == len(emails) == 100
        assert all(s.counts["read"] >= 25 for s in shards)  # none shorter than it may be
        after = _ct_emails(world)
        assert set(after) == set(before) | set(emails)  # every customer there ...
        assert max(after.values()) == 1  # ... once
        assert run.counts["created"] == len(set(emails) - set(before))


def test_a_run_whose_whole_worker_was_killed_is_queued_again_by_the_next(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    """A worker killed outright (its main process and its pool, as a machine lost would be)
    leaves its slice's message unacknowledged in Redis for the visibility timeout, an hour: the
    next worker's sweep finds the run held by a dead process and queues it again at once."""
    catalogue = Catalogue(seed=25, products=6 * PAGE, customers=2, orders=1)
    with deployment.store() as store:
        world = seeded(deployment.home, catalogue, ct, cl, store)
        deployment.start_workers(1, "--slice-pages", "1", "--shards", "1")
        run_id = _queued(deployment)
        wait_for(lambda: _slice_holders(store, [run_id]), DEADLINE, "a slice to be taken")
        os.killpg(deployment.workers[0].popen.pid, signal.SIGKILL)  # the whole worker
        deployment.workers[0].popen.wait()
        deployment.start_workers(1, "--slice-pages", "1", "--shards", "1")
        run = wait_for(lambda: _ended(store, run_id), DEADLINE, "the run to end")
        assert run.status == "succeeded", run.error
        assert run.counts["read"] == 6 * PAGE
        assert _destination(world) == _expected(catalogue)  # every record once
        gone = [
            line.message for line in store.run_logs.of(run_id) if "worker is gone" in line.message
        ]
        assert gone, "the run was not queued again by a sweep"
