"""Dry runs and previews through the real CLI, between the two sandboxes: what a dry run says it
would change (field, old, new for an update; the mapped record for a create), that it writes
nothing, how `runs list`/`runs show` mark it, and `--limit N`, which reads N records and leaves
the incremental cursor where it was."""

import json
from pathlib import Path
from typing import Any

import pytest

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.sandbox.catalogue import Catalogue, Customer
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from cartwire.store.planned_writes import KEPT_CHANGES, PlannedWrite
from cartwire.store.runs import PageProgress
from tests.flows.world import World
from tests.recorded_runs import record_run
from tests.support import run_cli

FLOW = "ct-customers-to-cl-customers"  # commercetools customers → Commerce Layer, by email
CUSTOMERS = 24


@pytest.fixture
def world(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=5, products=2, customers=CUSTOMERS, orders=1)
    return World.seeded(tmp_path, catalogue, ct, cl)


def cli(world: World, *args: str) -> tuple[str, str]:
    done = run_cli(world.home, *args, env={"COLUMNS": "200"})  # whole lines, unwrapped
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, done.stderr


def flow_run(world: World, *args: str) -> tuple[str, str]:
    return cli(
        world, "flows", "run", FLOW, "--source", CT_INSTANCE, "--destination", CL_INSTANCE, *args
    )


def flow_json(world: World, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(flow_run(world, "--json", *args)[0])
    return result


def rename_in_ct(world: World, customer: Customer, first_name: str) -> None:
    with world.ct_client() as client:
        found = client.get("customers", params={"where": f'email="{customer.email}"'}).json()
        [current] = found["results"]
        body = {
            "version": current["version"],
            "actions": [{"action": "setFirstName", "firstName": first_name}],
        }
        client.post(f"customers/{current['id']}", json=body).raise_for_status()


def cl_customer(world: World, email: str) -> dict[str, Any]:
    [found] = world.cl_all("customers", **{"filter[q][email_eq]": email})
    return found


def test_a_dry_run_shows_each_changed_field_and_writes_nothing(world: World) -> None:
    assert flow_json(world)["failed"] == 0
    customer = world.catalogue.customer(3)
    rename_in_ct(world, customer, "Quinny")
    world.reset_counters()

    stdout, stderr = flow_run(world, "--dry-run")

    old = {"first_name": customer.first_name, "last_name": customer.last_name}
    new = {**old, "first_name": "Quinny"}
    shown = [
        f"would update customers {customer.email}",
        f"    metadata: {_json(old)} → {_json(new)}",
    ]
    assert shown[0] in stdout.splitlines()
    lines = stdout.splitlines()
    assert lines[lines.index(shown[0]) + 1] == shown[1]
    # The cursor passes over the customers the first run already had: only the renamed is read.
    assert "(dry run): read 1, would create 0, would update 1, unchanged " in stdout
    assert f"{FLOW} (dry run): read 1 of 1 · would create 0 · would update 1" in stderr
    assert "written" not in stdout + stderr
    assert world.writes(world.cl) == 0
    assert cl_customer(world, customer.email)["attributes"]["metadata"] == old

    result = flow_json(world, "--dry-run")
    assert (result["dry_run"], result["updated"], result["changes_omitted"]) == (True, 1, 0)
    assert result["changes"] == [
        {
            "key": customer.email,
            "output": "customers",
            "action": "update",
            "field": "metadata",
            "old": old,
            "new": new,
        }
    ]
    assert world.writes(world.cl) == 0


def test_a_dry_run_shows_the_mapped_record_of_a_create(world: World) -> None:
    world.reset_counters()
    result = flow_json(world, "--dry-run")

    customer = world.catalogue.customer(1)  # only in commercetools
    [create] = [c for c in result["changes"] if c["key"] == customer.email]
    record = create["record"]
    assert create["action"] == "create"
    assert record["metadata"] == {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
    }
    assert (record["email"], record["reference_origin"]) == (customer.email, "commercetools")
    assert result["created"] == len([c for c in result["changes"] if c["action"] == "create"])
    assert result["created"] > 0
    assert result["unchanged"] == 0
    assert world.writes(world.cl) == 0

    stdout, _ = flow_run(world, "--dry-run")
    assert f"would create customers {customer.email}: {_json(record)}" in stdout.splitlines()
    assert world.writes(world.cl) == 0
    assert world.cl_all("customers", **{"filter[q][email_eq]": customer.email}) == []


def test_the_changes_a_dry_run_keeps_are_sealed(world: World) -> None:
    """What a dry run keeps for `runs show` is records' data: encrypted like failed records."""
    result = flow_json(world, "--dry-run")
    assert result["created"] > 0
    shown = json.loads(cli(world, "runs", "show", str(result["run_id"]), "--json")[0])
    assert shown["changes"] == result["changes"]
    raw = world.database_bytes()
    for number in range(1, CUSTOMERS + 1):
        assert world.catalogue.customer(number).last_name.encode() not in raw


def test_runs_list_and_show_mark_a_dry_run_and_show_its_changes(world: World) -> None:
    dry = flow_json(world, "--dry-run")
    real = flow_json(world)

    listed = json.loads(cli(world, "runs", "list", "--json")[0])
    assert [(r["run_id"], r["dry_run"]) for r in listed] == [
        (real["run_id"], False),
        (dry["run_id"], True),
    ]
    assert "(dry run)" in cli(world, "runs", "list")[0]

    shown = json.loads(cli(world, "runs", "show", str(dry["run_id"]), "--json")[0])
    assert shown["dry_run"] is True
    assert shown["changes"] == dry["changes"]
    text, _ = cli(world, "runs", "show", str(dry["run_id"]))
    assert f"run {dry['run_id']} succeeded (dry run): read {CUSTOMERS}," in text
    customer = world.catalogue.customer(1)
    assert any(
        line.startswith(f"would create customers {customer.email}: ") for line in text.splitlines()
    )
    assert "written" not in text
    assert (
        json.loads(cli(world, "runs", "show", str(real["run_id"]), "--json")[0])["dry_run"] is False
    )


def test_limit_reads_that_many_records_and_leaves_the_cursor(world: World) -> None:
    preview = flow_json(world, "--dry-run", "--limit", "5")
    assert (preview["read"], preview["limit"], preview["dry_run"]) == (5, 5, True)
    assert world.writes(world.cl) == 0

    limited = flow_json(world, "--limit", "5")
    assert (limited["read"], limited["limit"], limited["status"]) == (5, 5, "succeeded")
    assert limited["created"] + limited["updated"] + limited["unchanged"] == 5
    assert world.store.cursors.get(FLOW, CT_INSTANCE, CL_INSTANCE) is None
    shown = json.loads(cli(world, "runs", "show", str(limited["run_id"]), "--json")[0])
    assert any("limited to 5 source records" in log["message"] for log in shown["logs"])
    text, _ = cli(world, "runs", "show", str(limited["run_id"]))
    assert "(limited to 5 records)" in text

    everything = flow_json(world)  # the cursor did not move: this run reads every record
    assert (everything["read"], everything["limit"]) == (CUSTOMERS, None)
    assert (
        everything["created"] + everything["updated"]
        == CUSTOMERS - limited["created"] - limited["updated"]
    )
    assert world.store.cursors.get(FLOW, CT_INSTANCE, CL_INSTANCE) is not None


def test_a_dry_run_keeps_the_changes_of_its_first_records_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    store = Store.open()
    runs = store.runs
    run = record_run(runs, dry_run=True, status=None)
    page = [PlannedWrite("skus", f"SKU-{n}", "create", {"code": f"SKU-{n}"}) for n in range(150)]
    for _ in range(2):
        runs.commit_page(run.id, PageProgress(None, counts={"created": 150}, planned=page))
    kept = store.planned_writes.of(run.id)
    assert len(kept) == KEPT_CHANGES < 300
    assert kept[0] == page[0]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
