"""A flow run killed with SIGKILL at random moments, ten times, then resumed or re-run, ends with
every source record in the destination exactly once and correct.

Real processes, real kills: `cartwire flows run` and `cartwire runs resume` are started as
subprocesses and killed at a random point, alternately continued from the killed run's
checkpoint (`runs resume`) or by a fresh run from the incremental cursor (`flows run`). The
random point is a random number of pages after the run announces its progress (each committed
page is in the store), never a guessed delay: the kill lands inside the run on any machine.
"""

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from cartwire.demo import CL_INSTANCE, CT_INSTANCE, connect_sandboxes
from cartwire.flows.catalog import find
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from cartwire.store.runs import Runs
from tests.flows.world import World
from tests.support import CARTWIRE, run_cli

KILLS = 10
PAGE = 20  # source records a page, as the flow file below sets


def _flow_file(home: Path) -> None:
    """The prebuilt products flow with small pages and batches: many checkpoints to land
    between."""
    document = yaml.safe_load(find("ct-products-to-cl-skus").text)
    document["name"] = "kill-test"
    document["source"]["page_size"] = PAGE
    document["settings"]["batch_size"] = 40
    (home / "flows").mkdir(exist_ok=True)
    (home / "flows" / "kill-test.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def _last_run(home: Path) -> dict[str, object] | None:
    listed = json.loads(run_cli(home, "runs", "list", "--json").stdout)
    return listed[0] if listed else None


def test_killed_runs_lose_and_double_nothing(
    tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=9, products=160, customers=4, orders=2)
    seed(catalogue, ct, cl)
    store = Store.open()
    connect_sandboxes(store, ct, cl)
    world = World(tmp_path, store, catalogue, ct, cl)
    _flow_file(tmp_path)
    rng = random.Random(20261123)
    env = {**os.environ, "CARTWIRE_HOME": str(tmp_path)}
    fresh = ["flows", "run", "kill-test", "--source", CT_INSTANCE, "--destination", CL_INSTANCE]
    kills = 0
    for attempt in range(KILLS):
        last = _last_run(tmp_path)
        if last is not None and last["status"] in ("interrupted", "running") and attempt % 2:
            args = ["runs", "resume", str(last["run_id"])]
        else:
            args = fresh
        process = subprocess.Popen(
            [CARTWIRE, *args, "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        resumed_from = last if args[0] == "runs" else None
        if _pages_committed(store, process, resumed_from, rng.randint(1, 3)):
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 2, "the runs finished before they could be killed"

    last = _last_run(tmp_path)
    assert last is not None
    if last["status"] in ("interrupted", "running"):
        finish = run_cli(tmp_path, "runs", "resume", str(last["run_id"]), "--json")
    else:
        finish = run_cli(tmp_path, *fresh, "--json")
    assert finish.returncode == 0, finish.stderr
    assert json.loads(finish.stdout)["status"] == "succeeded"

    variants = [v for p in catalogue.products() for v in p.variants]
    codes = Counter(s["attributes"]["code"] for s in world.cl_all("skus"))
    assert codes == Counter(v.sku for v in variants)  # every sku once, none missing
    prices = world.cl_all("prices")
    pairs = Counter((p["attributes"]["sku_code"], p["attributes"]["currency_code"]) for p in prices)
    assert pairs == Counter((v.sku, cur) for v in variants for cur in v.prices)
    expected = {(v.sku, cur): cents for v in variants for cur, cents in v.prices.items()}
    for price in prices:
        attributes = price["attributes"]
        assert (
            expected[(attributes["sku_code"], attributes["currency_code"])]
            == (attributes["amount_cents"])
        )
    history = json.loads(run_cli(tmp_path, "runs", "list", "--json", "--limit", "50").stdout)
    assert sum(r["created"] for r in history) <= len(variants) * 4  # never created twice
    assert all(r["status"] != "running" for r in history)
    assert sum(r["status"] == "interrupted" for r in history) >= 2  # kills hit runs in flight
    resumed = [
        r
        for r in history
        if any("resumed" in line["message"] for line in _logs(tmp_path, int(r["run_id"])))
    ]
    assert resumed, "no run was continued from its checkpoint"


def _pages_committed(
    store: Store,
    process: subprocess.Popen[bytes],
    resumed: dict[str, object] | None,
    pages: int,
) -> bool:
    """Wait until the run in `process` has committed `pages` more pages (it records each in the
    store); False if it ended first. `resumed` is the run a `runs resume` continues."""
    runs = Runs(store)
    before = int(str(resumed["read"])) if resumed else 0
    known = int(str(resumed["run_id"])) if resumed else _newest_id(runs)
    while process.poll() is None:
        recent = runs.recent(limit=1)
        mine = bool(recent) and (recent[0].id == known if resumed else recent[0].id > known)
        if mine and recent[0].counts.get("read", 0) >= before + pages * PAGE:
            return True
        time.sleep(0.01)  # polling the store, not waiting for a guessed moment
    return False


def _newest_id(runs: Runs) -> int:
    recent = runs.recent(limit=1)
    return recent[0].id if recent else 0


def _logs(home: Path, run_id: int) -> list[dict[str, str]]:
    shown = json.loads(run_cli(home, "runs", "show", str(run_id), "--json").stdout)
    logs: list[dict[str, str]] = shown["logs"]
    return logs
