"""`cartwire demo` twice, through the real CLI: the first run seeds the sandboxes and syncs
everything, the second ("again: incremental, writes nothing") processes no record at all."""

import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from cartwire.demo import FLOWS
from cartwire.sandbox.manager import Sandbox
from tests.support import run_cli

PRODUCTS = 40


def _demo(home: Path) -> list[dict[str, Any]]:
    done = run_cli(home, "demo", "--products", str(PRODUCTS), "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    runs: list[dict[str, Any]] = json.loads(done.stdout)
    return runs


def _counted(sandbox: Sandbox) -> dict[str, int]:
    paths: dict[str, int] = httpx.get(f"{sandbox.url}/_sandbox/counters").json()["paths"]
    return paths


def _processed(run: dict[str, Any]) -> dict[str, int]:
    return {k: run[k] for k in ("read", "created", "updated", "unchanged", "failed")}


def test_the_second_demo_run_reads_and_writes_nothing(
    tmp_path: Path, cartwire_home: Path, ct: Sandbox, cl: Sandbox
) -> None:
    """The one thing a second run may read is the demo's own echo: Commerce Layer customers
    that `ct-customers-to-cl-customers` changed after `cl-customers-to-ct-customers` had read
    them (a real change at the source, found unchanged), in the second or the third run.
    A record not read is not looked up at the destination either: the writers get none."""
    # The demo finds the sandboxes this test session started (and reset) instead of its own.
    shutil.copy(cartwire_home / "sandbox.json", tmp_path / "sandbox.json")
    first = {r["flow"]: r for r in _demo(tmp_path)}
    assert list(first) == [name for name, _, _ in FLOWS]
    assert all(r["status"] == "succeeded" for r in first.values()), first
    assert sum(r["created"] for r in first.values()) > PRODUCTS
    back = first["ct-customers-to-cl-customers"]
    echo = back["created"] + back["updated"]

    echoed: dict[str, int] = {}
    for again in (1, 2):
        for sandbox in (ct, cl):
            httpx.delete(f"{sandbox.url}/_sandbox/counters").raise_for_status()
        runs = {r["flow"]: r for r in _demo(tmp_path)}
        for name, run in runs.items():
            assert run["status"] == "succeeded", run
            read = run["read"]
            expected = {"read": read, "created": 0, "updated": 0, "unchanged": read, "failed": 0}
            assert _processed(run) == expected, (again, run)
            echoed[name] = echoed.get(name, 0) + read
        for sandbox in (ct, cl):
            counted = _counted(sandbox)
            writes = {
                route: n
                for route, n in counted.items()
                if not route.startswith("GET") and not route.endswith("/oauth/token")
            }
            assert writes == {}, sandbox.platform
    # Each echoed customer is read once, by whichever run comes after Commerce Layer's read
    # lag (`lag_seconds`) has passed since the write.
    assert echoed.pop("cl-customers-to-ct-customers") <= echo
    assert echoed == dict.fromkeys(echoed, 0)

    # As a person sees it at 80 columns: what each flow read and wrote, and nothing cut.
    shown = run_cli(tmp_path, "demo", env={"COLUMNS": "80"}, timeout=600)
    assert shown.returncode == 0, shown.stderr
    header = next(line for line in shown.stdout.splitlines() if "status" in line)
    for column in ("flow", "status", "read", "created", "updated", "unchanged", "failed"):
        assert f" {column} " in header, header
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80, shown.stdout
