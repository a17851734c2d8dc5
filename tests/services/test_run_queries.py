"""What the HTTP API and the web UI ask of runs, called as they will call it: counts by step and
the cursor before and after (of real runs between the sandboxes), runs found by filter and
page, a log paged back from its end, the dashboard and each flow's last runs."""

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.services import errors
from cartwire.services.context import Services
from cartwire.services.runs import LogLine, RunFilter, RunView
from cartwire.store import Store
from cartwire.store.runs import OUTCOMES
from tests.flows.world import World
from tests.recorded_runs import record_run
from tests.support import run_cli

FLOW = "ct-products-to-cl-skus"
DEAD = f"{socket.gethostname()}:999999999:0"  # no such process


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with Store.open(f"sqlite:///{tmp_path / 'cartwire.db'}") as store:
        yield Services(store)


def test_a_prebuilt_run_counts_by_step_and_keeps_the_cursor_it_started_and_ended_at(
    world: World,
) -> None:
    services = Services(world.store)
    first = services.flows.prepare_run(FLOW).run()
    assert first.status == "succeeded", first.error
    assert set(first.steps) == {"read", "skus", "prices"}
    assert first.steps["read"] == {"read": first.counts["read"]}
    for outcome in OUTCOMES:
        by_output = sum(first.steps[output][outcome] for output in ("skus", "prices"))
        assert by_output == first.counts[outcome], outcome
    assert first.steps["skus"]["created"] > 0
    assert first.steps["prices"]["created"] > 0
    cursor = world.store.cursors.get(FLOW, CT_INSTANCE, CL_INSTANCE)
    assert (first.cursor_before, first.cursor_after) == (None, cursor)
    assert cursor is not None

    second = services.flows.prepare_run(FLOW).run()
    assert second.cursor_before == first.cursor_after
    assert second.cursor_after == world.store.cursors.get(FLOW, CT_INSTANCE, CL_INSTANCE)
    assert second.steps["read"]["read"] == second.counts["read"]
    assert services.runs.get(second.id) == second

    shown = json.loads(run_cli(world.home, "runs", "show", str(first.id), "--json").stdout)
    assert shown["steps"] == first.steps
    assert (shown["cursor_before"], shown["cursor_after"]) == (None, json.loads(json.dumps(cursor)))
    text = run_cli(world.home, "runs", "show", str(first.id)).stdout
    assert f"skus: created {first.steps['skus']['created']:,}" in text
    assert "cursor before: none" in text
    assert f"cursor after: updated_at {cursor['updated_at']}" in text


def test_find_filters_pages_and_sees_dead_runs_as_interrupted(services: Services) -> None:
    runs = services.store.runs
    one = record_run(runs, "products", source="ct", destination="cl").id
    two = record_run(runs, "customers", source="cl", destination="ct", status="failed").id
    three = record_run(runs, "products", source="ct", destination="cl2", trigger="schedule").id
    dead = record_run(runs, "stock", source="x", status=None, owner=DEAD).id

    def ids(**filter: object) -> list[int]:
        return [run.id for run in services.runs.find(RunFilter.model_validate(filter)).items]

    assert ids() == [dead, three, two, one]
    assert ids(flow="products") == [three, one]
    assert ids(instance="ct") == [three, two, one]
    assert ids(status="failed") == [two]
    assert ids(status="interrupted") == [dead]  # marked so before the query
    assert ids(trigger="schedule") == [three]
    created = services.runs.get(two).created_at
    assert ids(since=created) == [dead, three, two]
    assert ids(until=created) == [one]
    assert ids(flow="products", instance="cl2", status="succeeded", trigger="schedule") == [three]

    page = services.runs.find(RunFilter(), limit=3, offset=3)
    assert ([r.id for r in page.items], page.total, page.limit, page.offset) == ([one], 4, 3, 3)
    assert isinstance(page.items[0], RunView)


def test_find_refuses_what_it_cannot_answer_naming_the_field(services: Services) -> None:
    with pytest.raises(ValueError, match=r"status(.|\n)*must be one of queued, running, succe"):
        RunFilter(status="done")
    with pytest.raises(ValidationError, match="since"):
        RunFilter.model_validate({"since": "2026-12-01T09:00:00"})  # which time zone?
    for limit in (0, 501):
        refused = rf"limit: must be from 1 to 500 \(got {limit}\)"
        with pytest.raises(errors.QueryRefused, match=refused):
            services.runs.find(RunFilter(), limit=limit)
    with pytest.raises(errors.QueryRefused, match="offset: must be 0 or more"):
        services.runs.find(RunFilter(), offset=-1)
    with pytest.raises(errors.QueryRefused, match="per_flow: must be from 1 to 100"):
        services.runs.last_runs(["products"], per_flow=0)
    with pytest.raises(errors.QueryRefused, match="since: must say its time zone"):
        services.runs.dashboard(datetime(2026, 12, 1))  # no time zone


def test_a_log_pages_back_to_its_start_by_level(services: Services) -> None:
    run_id = record_run(services.store.runs, "products").id
    levels = ["info", "debug", "warning", "info", "error", "info", "warning", "error", "info"]
    for n, level in enumerate(levels):
        services.store.run_logs.add(run_id, level, f"line {n}")
    everything = services.runs.logs(run_id)
    assert [line.level for line in everything] == levels

    def back_to_start(level: str | None = None) -> list[list[LogLine]]:
        pages: list[list[LogLine]] = []
        before = None
        while True:
            page = services.runs.log_page(run_id, level=level, before=before, limit=2)
            pages.append(page.lines)
            if page.older is None:
                return pages
            before = page.older

    pages = back_to_start()
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert [line for page in reversed(pages) for line in page] == everything
    assert [line.message for line in pages[0]] == ["line 7", "line 8"]  # the end, oldest first
    warned = [line.level for page in reversed(back_to_start(level="warning")) for line in page]
    assert warned == ["warning", "error", "warning", "error"]
    errors_only = services.runs.log_page(run_id, errors_only=True)
    assert ([line.message for line in errors_only.lines], errors_only.older) == (
        ["line 4", "line 7"],
        None,
    )
    assert services.runs.log_page(run_id, level="error") == errors_only
    with pytest.raises(errors.QueryRefused, match="level: must be one of debug, info, warning"):
        services.runs.log_page(run_id, level="fatal")
    with pytest.raises(errors.StoreError, match="no run 999"):
        services.runs.log_page(999)


def test_the_dashboard_and_each_flows_last_runs(world: World) -> None:
    services = Services(world.store)
    since = datetime.now(UTC)
    done = services.flows.prepare_run(FLOW).run()
    assert done.status == "succeeded", done.error
    runs = world.store.runs
    record_run(runs, "broken", status="failed")
    record_run(runs, "healed", status="failed")
    healed = record_run(runs, "healed").id
    dead = record_run(runs, "stuck", status=None, owner=DEAD).id

    dashboard = services.runs.dashboard(since)
    assert dashboard.since == since
    assert dashboard.runs == {
        "queued": 0,
        "running": 0,
        "succeeded": 2,
        "partially succeeded": 0,
        "failed": 2,
        "stopped": 0,
        "interrupted": 1,  # its process died
    }
    assert dashboard.records_moved == done.counts["created"] + done.counts["updated"]
    assert dashboard.records_moved > 0
    assert dashboard.failing_flows == ["broken"]
    later = services.runs.dashboard(datetime.now(UTC) + timedelta(hours=1))
    assert (sum(later.runs.values()), later.records_moved) == (0, 0)
    assert later.failing_flows == ["broken"]  # failing now, however long ago it ran

    last = services.runs.last_runs([FLOW, "healed", "stuck", "never"], per_flow=1)
    assert {flow: [run.id for run in runs] for flow, runs in last.items()} == {
        FLOW: [done.id],
        "healed": [healed],
        "stuck": [dead],
        "never": [],
    }
    assert last["stuck"][0].status == "interrupted"
    assert len(services.runs.last_runs(["healed"])["healed"]) == 2
