"""The incremental cursor between the two sandboxes: a re-run with nothing changed processes
nothing (records bulk-loaded in one instant included), while a change and a write that became
visible late inside the settle margin are still picked up; a changed mapping runs in full.

Both directions run through the real CLI with the prebuilt customer flows: commercetools →
Commerce Layer and back. Records are bulk-loaded through the sandboxes' admin API with one shared
`timestamp`, as a bulk import leaves them.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cartwire.connectors import get_connector
from cartwire.demo import CL_INSTANCE, CT_INSTANCE, connect_sandboxes
from cartwire.flows.catalog import find
from cartwire.sandbox.clients import api_client
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from cartwire.store.runs import PageProgress
from tests.support import run_cli

CUSTOMERS = 60


@dataclass
class Direction:
    """One prebuilt customers flow and the sandbox on each side of it."""

    flow: str
    source: Sandbox
    destination: Sandbox
    source_instance: str
    destination_instance: str
    list_path: str  # the source's list request, as the sandbox counters key it

    def load(self, emails: list[str], at: datetime) -> None:
        """Customers straight into the source's store, all changed at the instant `at`."""
        stamp = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.source.platform == "commercetools":
            body: dict[str, Any] = {
                "type": "customer",
                "drafts": [{"email": e, "firstName": "Bulk", "lastName": "Load"} for e in emails],
                "timestamp": stamp,
            }
        else:
            body = {
                "type": "customers",
                "records": [{"attributes": {"email": e}} for e in emails],
                "timestamp": stamp,
            }
        httpx.post(f"{self.source.url}/_sandbox/load", json=body).raise_for_status()

    def change_one(self) -> None:
        """Change one source customer through the platform's API: a new updated-at, older than
        the source's read lag once this returns (a Commerce Layer read ends at `now - lag`, so a
        change younger than that is, rightly, left to the next run: waiting for the clock to
        pass it keeps the test independent of how fast the next run starts)."""
        self._change_one()
        changed_by = datetime.now(UTC)  # the platform stamped the change before this
        lag = _read_lag(self.source.platform)
        while datetime.now(UTC) - lag <= changed_by:
            time.sleep(0.05)  # until the clock condition above holds, not a guessed delay

    def _change_one(self) -> None:
        with api_client(self.source) as client:
            if self.source.platform == "commercetools":
                found = client.get("customers", params={"limit": 1, "sort": "id asc"}).json()
                customer = found["results"][0]
                action = {"action": "setFirstName", "firstName": "Changed"}
                body = {"version": customer["version"], "actions": [action]}
                client.post(f"customers/{customer['id']}", json=body).raise_for_status()
            else:
                found = client.get("customers", params={"page[size]": 1, "sort": "id"}).json()
                customer = found["data"][0]
                document = {
                    "data": {
                        "type": "customers",
                        "id": customer["id"],
                        "attributes": {"metadata": {"note": "changed"}},
                    }
                }
                client.patch(
                    f"customers/{customer['id']}",
                    json=document,
                    headers={"Content-Type": "application/vnd.api+json"},
                ).raise_for_status()


def _read_lag(platform: str) -> timedelta:
    """How far behind "now" the source's incremental reads end (its connector file's option)."""
    paging = get_connector(platform).endpoint("customers").incremental
    return timedelta(seconds=float(paging.options.get("lag_seconds", 0)) if paging else 0)


@pytest.fixture
def store(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    opened = Store.open()
    connect_sandboxes(opened, ct, cl)
    return opened


@pytest.fixture(params=["ct-to-cl", "cl-to-ct"])
def direction(request: pytest.FixtureRequest, ct: Sandbox, cl: Sandbox) -> Direction:
    if request.param == "ct-to-cl":
        return Direction(
            "ct-customers-to-cl-customers",
            ct,
            cl,
            CT_INSTANCE,
            CL_INSTANCE,
            "GET /cartwire-sandbox/customers",
        )
    return Direction(
        "cl-customers-to-ct-customers", cl, ct, CL_INSTANCE, CT_INSTANCE, "GET /api/customers"
    )


def _run(home: Path, direction: Direction, flow: str | None = None) -> dict[str, Any]:
    done = run_cli(
        home,
        "flows",
        "run",
        flow or direction.flow,
        "--source",
        direction.source_instance,
        "--destination",
        direction.destination_instance,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def _counters(sandbox: Sandbox) -> dict[str, Any]:
    counted: dict[str, Any] = httpx.get(f"{sandbox.url}/_sandbox/counters").json()
    return counted


def _reset_counters(*sandboxes: Sandbox) -> None:
    for sandbox in sandboxes:
        httpx.delete(f"{sandbox.url}/_sandbox/counters").raise_for_status()


def _emails(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:03d}@example.com" for i in range(n)]


def _logs(home: Path, run_id: int) -> str:
    shown = json.loads(run_cli(home, "runs", "show", str(run_id), "--json").stdout)
    return "\n".join(line["message"] for line in shown["logs"])


def test_a_rerun_of_a_bulk_load_processes_nothing_but_late_writes_and_changes(
    tmp_path: Path, store: Store, direction: Direction
) -> None:
    """All records share one instant inside the settle margin: the second run reads them
    again (they may still be joined by late writes) but passes over every one before any
    destination lookup or write; a changed record and one that turned up late with a time
    inside the margin are processed."""
    shared = datetime.now(UTC)
    direction.load(_emails("bulk", CUSTOMERS), shared)
    first = _run(tmp_path, direction)
    assert (first["status"], first["read"], first["created"]) == ("succeeded", CUSTOMERS, CUSTOMERS)

    _reset_counters(direction.source, direction.destination)
    again = _run(tmp_path, direction)
    assert again["status"] == "succeeded"
    assert {
        k: again[k] for k in ("read", "created", "updated", "unchanged", "failed")
    } == dict.fromkeys(("read", "created", "updated", "unchanged", "failed"), 0)
    assert _counters(direction.destination)["api_requests"] == 0  # no lookup, no write
    assert f"passed over {CUSTOMERS} records" in _logs(tmp_path, again["run_id"])

    direction.change_one()
    direction.load(["late@example.com"], shared)  # visible only now, stamped inside the margin
    third = _run(tmp_path, direction)
    assert third["status"] == "succeeded"
    assert third["read"] == 2
    assert third["created"] == 1
    assert third["updated"] + third["unchanged"] == 1


def test_a_rerun_after_the_margin_passed_reads_one_empty_page(
    tmp_path: Path, store: Store, direction: Direction
) -> None:
    """Records changed long before the run had time to become visible: the cursor starts the
    next read just after the newest of them and lists nothing, so the re-run asks the source
    for one page, which is empty."""
    direction.load(_emails("old", CUSTOMERS), datetime.now(UTC) - timedelta(hours=1))
    first = _run(tmp_path, direction)
    assert (first["status"], first["created"]) == ("succeeded", CUSTOMERS)
    _reset_counters(direction.source, direction.destination)
    again = _run(tmp_path, direction)
    assert (again["status"], again["read"]) == ("succeeded", 0)
    assert _counters(direction.source)["paths"] == {direction.list_path: 1}
    assert _counters(direction.destination)["api_requests"] == 0
    cursor = store.cursors.get(
        direction.flow, direction.source_instance, direction.destination_instance
    )
    assert cursor is not None
    assert cursor["seen"] == {}


def test_a_cursor_saved_before_seen_lists_still_reads(
    tmp_path: Path, store: Store, ct: Sandbox, cl: Sandbox
) -> None:
    """An old cursor, `{"updated_at": T}`: the next run reads from T minus the settle margin
    as before, and leaves a cursor of the new shape, after which nothing is processed again."""
    direction = Direction(
        "ct-customers-to-cl-customers", ct, cl, CT_INSTANCE, CL_INSTANCE, "GET /x"
    )
    direction.load(_emails("legacy", CUSTOMERS), datetime.now(UTC))
    first = _run(tmp_path, direction)
    runs = store.runs
    key = (direction.flow, CT_INSTANCE, CL_INSTANCE)
    saved = store.cursors.get(*key)
    assert saved is not None
    previous = runs.get(first["run_id"])
    runs.commit_page(
        previous.id,
        PageProgress(checkpoint=previous.checkpoint, cursor={"updated_at": saved["updated_at"]}),
    )
    old_shape = _run(tmp_path, direction)
    assert (old_shape["read"], old_shape["unchanged"]) == (CUSTOMERS, CUSTOMERS)
    assert set(store.cursors.get(*key) or {}) >= {"since", "seen", "mapping"}
    assert _run(tmp_path, direction)["read"] == 0


def test_a_changed_mapping_runs_in_full_once(
    tmp_path: Path, store: Store, ct: Sandbox, cl: Sandbox
) -> None:
    """A new field in the flow (version 2): the next run re-processes every record with it and
    says why; the one after is incremental again."""
    document = yaml.safe_load(find("ct-customers-to-cl-customers").text)
    document["name"] = "my-customers"
    (tmp_path / "flows").mkdir()
    path = tmp_path / "flows" / "my-customers.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    direction = Direction("my-customers", ct, cl, CT_INSTANCE, CL_INSTANCE, "GET /x")
    direction.load(_emails("mapped", CUSTOMERS), datetime.now(UTC))
    first = _run(tmp_path, direction)
    assert (first["created"], first["stderr"].count("changed since")) == (CUSTOMERS, 0)

    document["version"] = 2
    document["steps"][1]["map"]["fields"]["metadata.segment"] = {"value": "vip"}
    path.write_text("# edited\n" + yaml.safe_dump(document, sort_keys=False))
    second = _run(tmp_path, direction)
    message = "flow my-customers changed since the last successful run: running in full"
    assert message in second["stderr"].replace("\n", " ")
    assert message in _logs(tmp_path, second["run_id"])
    assert (second["read"], second["updated"]) == (CUSTOMERS, CUSTOMERS)
    with api_client(cl) as client:
        found = client.get("customers", params={"page[size]": 25}).json()
    assert found["meta"]["record_count"] == CUSTOMERS
    assert all(c["attributes"]["metadata"].get("segment") == "vip" for c in found["data"])

    document["description"] = "a new description changes nothing written"
    path.write_text("# a comment neither\n" + yaml.safe_dump(document, sort_keys=False))
    third = _run(tmp_path, direction)
    assert "changed since" not in third["stderr"]
    assert (third["read"], third["updated"]) == (0, 0)
