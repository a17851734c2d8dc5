"""Runs looked back on in SQL, on SQLite and on PostgreSQL: filtered and paged, counted by
status, records moved, failing flows, the latest of each flow; their counts by step, the cursor
before and after, and log lines paged from the end."""

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, text, update

from cartwire.store import Store
from cartwire.store import migrate as migrations
from cartwire.store.models import RunRow
from cartwire.store.run_history import RunQuery
from cartwire.store.runs import COUNTS, PageProgress
from tests.recorded_runs import ELSEWHERE, record_run

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _run(
    store: Store,
    flow: str = "f",
    *,
    status: str = "succeeded",
    at: datetime = T0,
    ended: datetime | None = None,
    **recorded: Any,
) -> int:
    """A finished run (`recorded`: as `record_run` takes them) created at `at` and ended at
    `ended`, else at `at`."""
    run = record_run(store.runs, flow, status=status, **recorded)
    with store.engine.begin() as connection:
        connection.execute(
            update(RunRow).where(RunRow.id == run.id).values(created_at=at, ended_at=ended or at)
        )
    return run.id


def _ids(store: Store, limit: int = 50, offset: int = 0, **query: Any) -> list[int]:
    runs, _ = store.run_history.find(RunQuery(**query), limit, offset)
    return [run.id for run in runs]


def test_find_filters_each_field_in_sql_newest_first(store: Store) -> None:
    one = _run(store, "products", source="ct", destination="cl", at=T0)
    two = _run(store, "customers", source="cl", destination="ct", at=T0 + timedelta(hours=1))
    three = _run(
        store,
        "products",
        source="ct",
        destination="cl2",
        trigger="schedule",
        status="failed",
        at=T0 + timedelta(hours=2),
    )
    four = _run(store, "stock", source="x", trigger="webhook", at=T0 - timedelta(days=1))

    assert _ids(store) == [three, two, one, four]
    assert _ids(store, flow="products") == [three, one]
    assert _ids(store, instance="ct") == [three, two, one]  # the source or the destination
    assert _ids(store, instance="cl2") == [three]
    assert _ids(store, status="failed") == [three]
    assert _ids(store, trigger="webhook") == [four]
    assert _ids(store, since=T0 + timedelta(hours=1)) == [three, two]  # inclusive
    assert _ids(store, until=T0 + timedelta(hours=1)) == [one, four]  # exclusive
    assert _ids(store, flow="products", status="succeeded", since=T0, until=T0 + timedelta(1)) == [
        one
    ]
    assert _ids(store, flow="nothing") == []


def test_find_pages_with_the_total_of_all_matches(store: Store) -> None:
    made = [_run(store, at=T0 + timedelta(minutes=n)) for n in range(5)]
    newest_first = made[::-1]
    runs, total = store.run_history.find(RunQuery(), 2, 0)
    assert ([r.id for r in runs], total) == (newest_first[:2], 5)
    assert _ids(store, limit=2, offset=2) == newest_first[2:4]
    assert _ids(store, limit=2, offset=4) == newest_first[4:]
    runs, total = store.run_history.find(RunQuery(status="failed"), 2, 0)
    assert (runs, total) == ([], 0)


def test_runs_by_status_and_records_moved_since(store: Store) -> None:
    moved = {"read": 9, "created": 3, "updated": 2, "unchanged": 4, "deleted": 1}
    _run(store, counts=moved, at=T0)
    _run(store, status="failed", counts={"read": 2, "failed": 2}, at=T0 + timedelta(minutes=1))
    _run(store, dry_run=True, counts={"read": 5, "created": 5}, at=T0 + timedelta(minutes=2))
    _run(store, counts={"read": 7, "created": 7}, at=T0 - timedelta(minutes=1))  # before

    assert store.run_history.by_status(T0) == {"succeeded": 2, "failed": 1}
    assert store.run_history.records_moved(T0) == 3 + 2 + 1  # not the dry run's, nor before
    assert store.run_history.records_moved(T0 + timedelta(days=1)) == 0


def test_runs_by_status_and_records_by_outcome_of_all_time(store: Store) -> None:
    """What metrics read: every run however old, dry runs too (their counts are what they
    would have done)."""
    assert store.run_history.by_status() == {}
    assert store.run_history.by_outcome() == dict.fromkeys(COUNTS, 0)
    _run(store, counts={"read": 10, "created": 7, "unchanged": 3}, at=T0)
    _run(store, status="partially succeeded", counts={"read": 5, "created": 1, "failed": 4})
    _run(store, dry_run=True, counts={"read": 2, "skipped": 2}, at=T0 - timedelta(days=400))
    _run(store, counts={"read": 100, "updated": 40}, at=T0 + timedelta(days=1))
    assert store.run_history.by_status() == {"succeeded": 3, "partially succeeded": 1}
    assert store.run_history.by_outcome() == {
        "read": 117,
        "created": 8,
        "updated": 40,
        "unchanged": 3,
        "skipped": 2,
        "failed": 4,
    }


def test_a_flow_is_failing_when_its_last_finished_run_failed(store: Store) -> None:
    _run(store, "healed", status="failed", at=T0)
    _run(store, "healed", status="succeeded", at=T0 + timedelta(minutes=1))
    _run(store, "broken", status="succeeded", at=T0)
    _run(store, "broken", status="partially succeeded", at=T0 + timedelta(minutes=1))
    _run(store, "broken", dry_run=True, at=T0 + timedelta(minutes=2))  # wrote nothing
    # created first but finished last: it is the flow's last finished run
    _run(store, "slow", status="failed", at=T0, ended=T0 + timedelta(hours=1))
    _run(store, "slow", source="c", at=T0 + timedelta(minutes=1))
    stuck = record_run(store.runs, "healed", status=None)
    assert stuck.status == "running"  # not finished: the flow's last finished run still counts
    assert store.run_history.failing_flows() == ["broken", "slow"]


def test_the_latest_runs_of_each_flow(store: Store) -> None:
    products = [_run(store, "products", at=T0 + timedelta(minutes=n)) for n in range(4)]
    customers = _run(store, "customers", at=T0)
    _run(store, "other", at=T0)
    latest = store.run_history.latest(["products", "customers", "never"], 3)
    assert {flow: [r.id for r in runs] for flow, runs in latest.items()} == {
        "products": products[:0:-1],
        "customers": [customers],
        "never": [],
    }


def test_counts_by_step_add_up_page_by_page_and_the_cursor_is_kept_at_start_and_end(
    store: Store,
) -> None:
    zero = {"read": {"read": 0}, "skus": {"created": 0, "failed": 0}}
    run = store.runs.start(
        flow="f",
        version=1,
        text="",
        trigger="manual",
        source="a",
        destination="b",
        full=False,
        dry_run=False,
        owner=ELSEWHERE,
        steps=zero,
    )
    assert (run.steps, run.cursor_before, run.cursor_after) == (zero, None, None)
    for created in (2, 3):
        page = {"read": {"read": created}, "skus": {"created": created}}
        store.runs.commit_page(run.id, PageProgress(checkpoint=None, steps=page))
    store.runs.commit_page(
        run.id,
        PageProgress(checkpoint=None, steps={"prices": {"updated": 1}}, cursor={"since": "t1"}),
    )
    stopped = store.runs.finish(run.id, "stopped")
    assert stopped.steps == {
        "read": {"read": 5},
        "skus": {"created": 5, "failed": 0},
        "prices": {"updated": 1},
    }
    assert (stopped.cursor_before, stopped.cursor_after) == (None, {"since": "t1"})

    resumed = store.runs.claim(run.id, "elsewhere:1:2")
    assert (resumed.cursor_before, resumed.cursor_after) == (None, None)  # it has not ended
    store.runs.finish(run.id, "succeeded")
    second = record_run(store.runs, status=None)
    assert (second.steps, second.cursor_before) == ({}, {"since": "t1"})
    with store.engine.begin() as connection:  # its process died: a stop ends it at once
        dead = f"{socket.gethostname()}:999999999:0"
        connection.execute(update(RunRow).where(RunRow.id == second.id).values(owner=dead))
    assert store.runs.request_stop(second.id).cursor_after == {"since": "t1"}


def test_log_lines_page_back_from_the_end_by_level(store: Store) -> None:
    run_id = _run(store)
    levels = ["info", "debug", "warning", "info", "error", "info", "error"]
    for n, level in enumerate(levels):
        store.run_logs.add(run_id, level, f"line {n}")
    store.run_logs.add(_run(store, source="other"), "error", "another run's")
    everything = ("debug", "info", "warning", "error")

    last, more = store.run_logs.tail(run_id, levels=everything, before=None, limit=3)
    assert ([line.message for line in last], more) == (["line 4", "line 5", "line 6"], True)
    middle, more = store.run_logs.tail(run_id, levels=everything, before=last[0].id, limit=3)
    assert ([line.message for line in middle], more) == (["line 1", "line 2", "line 3"], True)
    first, more = store.run_logs.tail(run_id, levels=everything, before=middle[0].id, limit=3)
    assert ([line.message for line in first], more) == (["line 0"], False)

    errors, more = store.run_logs.tail(run_id, levels=("error",), before=None, limit=2)
    assert ([line.message for line in errors], more) == (["line 4", "line 6"], False)
    assert [line.level for line in store.run_logs.of(run_id)] == levels


def test_runs_from_before_have_no_counts_by_step_nor_cursors(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'cartwire.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0008")
        connection.execute(
            text(
                "INSERT INTO runs (id, flow, flow_version, flow_text, trigger, source, destination,"
                " full, dry_run, status, counts, retry_of, stop_requested, created_at)"
                " VALUES (1, 'f', 1, '', 'manual', 's', 'd', 0, 0, 'succeeded',"
                " '{\"read\": 3}', NULL, 0, :now)"
            ),
            {"now": T0.strftime("%Y-%m-%d %H:%M:%S.%f")},  # as SQLAlchemy writes it
        )
    engine.dispose()
    with Store.open(url) as store:
        old = store.runs.get(1)
        assert (old.counts, old.steps, old.cursor_before, old.cursor_after) == (
            {"read": 3},
            {},
            None,
            None,
        )
        assert _ids(store, since=T0) == [1]
