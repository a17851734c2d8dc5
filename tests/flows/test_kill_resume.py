"""A flow run killed with SIGKILL at random moments, ten times, then resumed or re-run, ends with
every source record in the destination exactly once and correct.

Real processes, real kills: `cartwire flows run` and `cartwire runs resume` are started as
subprocesses (through tests/flows/paused_cli.py) and killed at a random point, alternately
continued from the killed run's checkpoint (`runs resume`) or by a fresh run from the incremental
cursor (`flows run`). The random point is a random page of those the run has left, just before or
just after its commit, where the process halts and announces it: never a guessed delay, so every
kill lands inside the run on any machine.
"""

import json
import os
import random
import signal
import subprocess
import sys
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
from tests.flows.world import World
from tests.support import run_cli

REPO = Path(__file__).resolve().parents[2]

KILLS = 10
PAGE = 20  # source records a page, as the flow file below sets
PRODUCTS = 160
PAGES = PRODUCTS // PAGE  # a full read, as long as no run has succeeded (no cursor yet)


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
    catalogue = Catalogue(seed=9, products=PRODUCTS, customers=4, orders=2)
    seed(catalogue, ct, cl)
    store = Store.open()
    connect_sandboxes(store, ct, cl)
    world = World(tmp_path, store, catalogue, ct, cl)
    _flow_file(tmp_path)
    rng = random.Random(20261123)
    env = {**os.environ, "CARTWIRE_HOME": str(tmp_path)}
    fresh = ["flows", "run", "kill-test", "--source", CT_INSTANCE, "--destination", CL_INSTANCE]
    killed: set[int] = set()
    for attempt in range(KILLS):
        last = _last_run(tmp_path)
        if last is not None and attempt % 2:
            args = ["runs", "resume", str(last["run_id"])]
            left = PAGES - int(str(last["read"])) // PAGE
        else:
            args, left = fresh, PAGES
        # Halting after the last page's commit could leave a run with nothing left to do.
        page = rng.randint(1, left)
        when = "before" if page == left else rng.choice(("before", "after"))
        _kill_at(tmp_path, env, page, when, [*args, "--json"])
        last = _last_run(tmp_path)
        assert last is not None
        killed.add(int(str(last["run_id"])))

    last = _last_run(tmp_path)
    assert last is not None
    assert last["status"] == "interrupted"
    finish = run_cli(tmp_path, "runs", "resume", str(last["run_id"]), "--json")
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
    # Every killed run is interrupted, but the one the last command finished.
    statuses = {int(r["run_id"]): r["status"] for r in history}
    assert statuses == {
        **dict.fromkeys(killed, "interrupted"),
        int(str(last["run_id"])): "succeeded",
    }
    resumed = [
        r
        for r in history
        if any("resumed" in line["message"] for line in _logs(tmp_path, int(r["run_id"])))
    ]
    assert resumed, "no run was continued from its checkpoint"


def _kill_at(home: Path, env: dict[str, str], page: int, when: str, args: list[str]) -> None:
    """Run `cartwire ARGS` until it halts `when` ("before"/"after") committing its `page`-th
    page, which it announces on a pipe, and SIGKILL it there."""
    announce, announcer = os.pipe()
    halting = [sys.executable, "-m", "tests.flows.paused_cli", str(page), when, str(announcer)]
    with (home / "killed.stderr").open("w") as stderr:
        process = subprocess.Popen(
            [*halting, "--", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=(announcer,),
        )
    os.close(announcer)
    with os.fdopen(announce) as announcements:
        said = announcements.readline()
    if said != "paused\n":
        process.wait()
        errors = (home / "killed.stderr").read_text()
        pytest.fail(f"{args} ended (exit {process.returncode}) before page {page}:\n{errors}")
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def _logs(home: Path, run_id: int) -> list[dict[str, str]]:
    shown = json.loads(run_cli(home, "runs", "show", str(run_id), "--json").stdout)
    logs: list[dict[str, str]] = shown["logs"]
    return logs
