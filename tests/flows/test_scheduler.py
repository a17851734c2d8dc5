"""The scheduler: slot computation, one run per slot across schedulers and restarts, disabled
bindings, busy bindings, and a clean stop on SIGTERM.

Decisions are tested in-process against a real store with a launcher seam (`Launched` without a
flow behind it) where the run itself does not matter; the claims across processes and restarts
run real `cartwire scheduler` processes against the sandboxes.
"""

import json
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cartwire.flows import load_flow
from cartwire.flows.background import Launched
from cartwire.flows.catalog import FlowFile, FlowNotFound
from cartwire.flows.scheduler import Scheduler, latest_slot, next_slot, schedules
from cartwire.sandbox.manager import Sandbox
from cartwire.services.launcher import ThreadLauncher
from cartwire.store import Store
from cartwire.store.bindings import Binding
from cartwire.store.engine import Sessions
from cartwire.store.models import ScheduleSlotRow
from cartwire.store.runs import Run, RunBusy
from tests.flows.triggers_support import (
    Process,
    add_sandbox_instances,
    bind,
    channels_flow,
    opened_store,
    runs_of,
    slots_of,
    write_flow,
)
from tests.platforms.ct_support import Admin
from tests.recorded_runs import held_run
from tests.store.helpers import make_record
from tests.support import run_cli


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- slots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crons", "now", "slot"),
    [
        (["0 * * * *"], "2026-03-02 10:00:00", "2026-03-02 10:00:00"),  # exactly on the slot
        (["0 * * * *"], "2026-03-02 10:59:59.999", "2026-03-02 10:00:00"),
        (["0 * * * *"], "2026-03-02 09:59:59.999", "2026-03-02 09:00:00"),
        (["*/15 * * * *"], "2026-03-02 10:44:10", "2026-03-02 10:30:00"),
        (["30 2 * * *"], "2026-03-02 01:00:00", "2026-03-01 02:30:00"),  # yesterday's
        (["0 0 * * 1"], "2026-03-04 12:00:00", "2026-03-02 00:00:00"),  # Monday's
        (["0 0 1 * *"], "2026-03-01 00:00:00", "2026-03-01 00:00:00"),
        (["0 0 1 * *"], "2026-02-28 23:59:00", "2026-02-01 00:00:00"),
        # several triggers are one timeline: the most recent slot of any of them
        (["0 2 * * *", "*/20 * * * *"], "2026-03-02 02:10:00", "2026-03-02 02:00:00"),
        (["0 2 * * *", "*/20 * * * *"], "2026-03-02 02:45:00", "2026-03-02 02:40:00"),
        (["0 12 * * *", "0 0 * * 1"], "2026-03-02 11:00:00", "2026-03-02 00:00:00"),
        (["0 12 * * *", "0 0 * * 1"], "2026-03-03 11:00:00", "2026-03-02 12:00:00"),
    ],
)
def test_latest_slot(crons: list[str], now: str, slot: str) -> None:
    assert latest_slot(crons, at(now)) == at(slot)


def test_latest_and_next_slot_edges() -> None:
    assert latest_slot([], at("2026-03-02 10:00:00")) is None
    assert next_slot([], at("2026-03-02 10:00:00")) is None
    # next is strictly after now, the earliest of all triggers
    assert next_slot(["0 * * * *", "45 * * * *"], at("2026-03-02 10:00:00")) == at(
        "2026-03-02 10:45:00"
    )
    assert next_slot(["0 * * * *", "45 * * * *"], at("2026-03-02 10:50:00")) == at(
        "2026-03-02 11:00:00"
    )
    # any time zone in, UTC out
    berlin = datetime(2026, 3, 2, 11, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert latest_slot(["0 * * * *"], berlin) == at("2026-03-02 11:00:00")
    with pytest.raises(ValueError, match="tz-aware"):
        latest_slot(["0 * * * *"], datetime(2026, 3, 2, 10, 0))


# -- decisions, in-process with a launcher seam ----------------------------------------------


def flow_file(name: str, *crons: str, manual: bool = False) -> FlowFile:
    triggers = [f'schedule: "{c}"' for c in crons] + (["manual"] if manual else [])
    text = channels_flow(name, *triggers)
    return FlowFile(load_flow(text), text, "user")


class FakeLauncher:
    """Records each start; `busy` makes the next starts raise RunBusy like a held lock."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []
        self.busy: RunBusy | None = None
        self.lock = threading.Lock()

    def __call__(
        self,
        flow_file: FlowFile,
        binding: Binding,
        *,
        trigger: str,
        records: list[dict[str, Any]] | None = None,
    ) -> Launched:
        if self.busy is not None:
            raise self.busy
        with self.lock:
            self.started.append((binding.flow, trigger))
            return Launched(len(self.started), Future())


class Clock:
    def __init__(self, now: str) -> None:
        self.now = at(now)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Store.open() as opened:
        yield opened


def scheduler_for(
    store: Store, flows: dict[str, FlowFile], launcher: FakeLauncher, clock: Clock
) -> Scheduler:
    def find(name: str) -> FlowFile:
        if name not in flows:
            raise FlowNotFound(name)
        return flows[name]

    return Scheduler(store, launcher, find_flow=find, clock=clock)


def test_only_the_latest_missed_slot_runs_and_only_once(store: Store) -> None:
    flows = {"every-5": flow_file("every-5", "*/5 * * * *")}
    store.bindings.bind("every-5", "ct", "cl")
    launcher, clock = FakeLauncher(), Clock("2026-03-02 10:07:30")
    scheduler = scheduler_for(store, flows, launcher, clock)

    events = scheduler.tick()
    assert [(e.action, e.slot) for e in events] == [("started", at("2026-03-02 10:05:00"))]
    assert launcher.started == [("every-5", "schedule")]
    assert scheduler.tick() == []  # polled again within the slot: nothing
    clock.now = at("2026-03-02 10:09:59")
    assert scheduler.tick() == []
    clock.now = at("2026-03-02 10:31:00")  # down for a while: 10:10 … 10:25 missed
    assert [(e.action, e.slot) for e in scheduler.tick()] == [
        ("started", at("2026-03-02 10:30:00"))
    ]
    # the store knows which run each slot got; the missed ones were never claimed
    assert [slot for slot, _ in slots_of_store(store, "every-5")] == [
        at("2026-03-02 10:05:00"),
        at("2026-03-02 10:30:00"),
    ]
    assert [run for _, run in slots_of_store(store, "every-5")] == [1, 2]


def slots_of_store(store: Store, flow: str) -> list[tuple[datetime, int | None]]:
    with Sessions(store.engine).read() as session:
        rows = session.scalars(
            select(ScheduleSlotRow)
            .where(ScheduleSlotRow.flow == flow)
            .order_by(ScheduleSlotRow.slot)
        )
        return [(row.slot, row.run_id) for row in rows]


def test_several_triggers_and_several_flows(store: Store) -> None:
    flows = {
        "a": flow_file("a", "0 2 * * *", "*/20 * * * *"),
        "b": flow_file("b", "0 * * * *"),
        "manual-only": flow_file("manual-only", manual=True),
    }
    for name in flows:
        store.bindings.bind(name, "ct", "cl")
    launcher, clock = FakeLauncher(), Clock("2026-03-02 02:10:00")
    scheduler = scheduler_for(store, flows, launcher, clock)

    events = {e.flow: e for e in scheduler.tick()}
    assert set(events) == {"a", "b"}  # a flow without schedule triggers is not the scheduler's
    assert events["a"].slot == at("2026-03-02 02:00:00")  # both of a's triggers name 02:00
    assert events["b"].slot == at("2026-03-02 02:00:00")
    assert sorted(launcher.started) == [("a", "schedule"), ("b", "schedule")]
    assert schedules(flows["a"].flow) == ["0 2 * * *", "*/20 * * * *"]
    # it sleeps until the next slot of any flow (02:20), never longer than the poll
    assert scheduler.wake_in(poll=3600) == 600
    assert scheduler.wake_in(poll=30) == 30


def test_two_schedulers_on_one_store_claim_each_slot_once(store: Store) -> None:
    flows = {f"f{i}": flow_file(f"f{i}", "* * * * *") for i in range(5)}
    for name in flows:
        store.bindings.bind(name, "ct", "cl")
    launcher = FakeLauncher()
    clock = Clock("2026-03-02 10:00:00")
    with Store.open() as other:  # a second connection pool, as a second process would have
        schedulers = [
            scheduler_for(store, flows, launcher, clock),
            scheduler_for(other, flows, launcher, clock),
        ]
        for minute in range(5):
            clock.now = at("2026-03-02 10:00:00") + timedelta(minutes=minute)
            barrier = threading.Barrier(2)
            results: list[list[str]] = [[], []]

            def tick(i: int, results: list[list[str]] = results, b: Any = barrier) -> None:
                b.wait()
                results[i] = [e.action for e in schedulers[i].tick()]

            threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(results[0] + results[1]) == ["started"] * 5 + ["taken"] * 5
    assert sorted(launcher.started) == sorted(
        (name, "schedule") for name in flows for _ in range(5)
    )


def test_disabled_bindings_are_not_run(store: Store) -> None:
    flows = {"runs": flow_file("runs", "0 * * * *"), "rests": flow_file("rests", "0 * * * *")}
    store.bindings.bind("runs", "ct", "cl")
    store.bindings.bind("rests", "ct", "cl", enabled=False)
    launcher, clock = FakeLauncher(), Clock("2026-03-02 10:15:00")
    scheduler = scheduler_for(store, flows, launcher, clock)
    assert [e.flow for e in scheduler.tick()] == ["runs"]
    assert launcher.started == [("runs", "schedule")]
    assert slots_of_store(store, "rests") == []  # not even claimed: re-enabling runs its slot
    store.bindings.bind("rests", "ct", "cl", enabled=True)
    assert [e.flow for e in scheduler.tick()] == ["rests"]


def test_a_busy_binding_skips_the_slot_instead_of_queueing(store: Store) -> None:
    flows = {"slow": flow_file("slow", "*/10 * * * *")}
    store.bindings.bind("slow", "ct", "cl")
    launcher, clock = FakeLauncher(), Clock("2026-03-02 10:00:05")
    scheduler = scheduler_for(store, flows, launcher, clock)
    launcher.busy = RunBusy(41, "running")
    [event] = scheduler.tick()
    assert (event.action, event.run_id) == ("busy", 41)
    assert "run 41" in event.message
    launcher.busy = None
    clock.now = at("2026-03-02 10:05:00")  # the busy slot is not retried …
    assert scheduler.tick() == []
    clock.now = at("2026-03-02 10:10:00")  # … the next one is the retry
    assert [e.action for e in scheduler.tick()] == ["started"]
    assert slots_of_store(store, "slow") == [
        (at("2026-03-02 10:00:00"), None),
        (at("2026-03-02 10:10:00"), 1),
    ]


def test_busy_with_the_real_launcher_and_a_live_run(store: Store) -> None:
    """The real thread launcher reports the binding's lock at once (the instances are never
    reached: the run record is refused before any platform is opened)."""
    flows = {"held": flow_file("held", "0 * * * *")}
    store.instances.add(make_record("ct"))
    store.instances.add(make_record("cl", connector="commercelayer"))
    runs = store.runs
    store.bindings.bind("held", "ct", "cl")
    holder = held_run(runs, "held", "ct", "cl")
    scheduler = Scheduler(
        store,
        ThreadLauncher(store, start_timeout=30),
        find_flow=flows.__getitem__,
        clock=Clock("2026-03-02 10:15:00"),
    )
    [event] = scheduler.tick()
    assert (event.action, event.run_id) == ("busy", holder.id)
    assert [r.id for r in runs.recent("held")] == [holder.id]  # nothing else was started


def test_a_broken_flow_file_is_reported_once_and_others_still_run(store: Store) -> None:
    flows = {"fine": flow_file("fine", "0 * * * *")}
    store.bindings.bind("gone", "ct", "cl")
    store.bindings.bind("fine", "ct", "cl")
    launcher, clock = FakeLauncher(), Clock("2026-03-02 10:15:00")
    scheduler = scheduler_for(store, flows, launcher, clock)
    events = scheduler.tick()
    assert sorted((e.flow, e.action) for e in events) == [("fine", "started"), ("gone", "error")]
    assert scheduler.tick() == []


def test_stop_asks_the_runs_in_flight_to_stop(store: Store) -> None:
    runs = store.runs
    run = held_run(runs, "long", "ct", "cl", trigger="schedule")
    done: Future[Run] = Future()
    scheduler = Scheduler(store, FakeLauncher())
    scheduler.in_flight[run.id] = ("long", done)
    event = scheduler.request_stop()
    assert event is not None
    assert str(run.id) in event.message
    assert runs.get(run.id).stop_requested
    assert scheduler.wait(0.3) is False  # still going
    done.set_result(runs.finish(run.id, "stopped"))
    assert scheduler.wait(5) is True
    [finished] = scheduler.reap()
    assert (finished.action, finished.status) == ("finished", "stopped")


# -- real processes against the sandboxes ----------------------------------------------------


def _daily_slots_well_behind_now() -> list[str]:
    """Two daily schedule triggers (one timeline) whose latest slot is 6 hours ago and whose
    next is 12 hours ahead: every process in a test sees the same latest slot however slowly
    the machine runs it, and no test waits for a real slot boundary to pass."""
    now = datetime.now(UTC)
    behind = (now - timedelta(hours=12), now - timedelta(hours=6))
    return [f'schedule: "{moment.minute} {moment.hour} * * *"' for moment in behind]


@pytest.fixture
def home(tmp_path: Path, ct: Sandbox, cl: Sandbox) -> Path:
    home = tmp_path / "home"
    add_sandbox_instances(home, ct, cl)
    slots = _daily_slots_well_behind_now()
    write_flow(home, "sched-channels", channels_flow("sched-channels", *slots))
    bind(home, "sched-channels", "ct", "cl")
    return home


def _first_decision(event: dict[str, Any]) -> bool:
    return event["event"] in ("started", "taken", "busy", "error")


def test_two_scheduler_processes_and_a_restart_run_the_slot_once(home: Path) -> None:
    a = Process(home, "scheduler", "--json", "--poll", "2")
    b = Process(home, "scheduler", "--json", "--poll", "2")
    try:
        decided = [p.events(90, _first_decision)[-1] for p in (a, b)]
        assert sorted(e["event"] for e in decided) == ["started", "taken"]
        [started] = [e for e in decided if e["event"] == "started"]
        [taken] = [e for e in decided if e["event"] == "taken"]
        assert started["slot"] == taken["slot"]
        winner = a if decided[0] is started else b
        finished = winner.events(90, lambda e: e["event"] == "finished")[-1]
        assert (finished["run_id"], finished["status"]) == (started["run_id"], "succeeded")
    finally:
        for process in (a, b):
            process.stop(signal.SIGKILL)

    # restarted (and killed before, not stopped): the slot is not run again
    again = run_cli(home, "scheduler", "--once", "--json")
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(e["event"], e["slot"]) for e in events] == [("taken", started["slot"])]

    runs = runs_of(home, "sched-channels")
    assert [(r.id, r.trigger, r.status) for r in runs] == [
        (started["run_id"], "schedule", "succeeded")
    ]
    assert [(slot.isoformat(), run) for slot, run in slots_of(home, "sched-channels")] == [
        (started["slot"], started["run_id"])
    ]


def test_disabled_binding_is_not_run_by_the_scheduler_process(home: Path) -> None:
    done = run_cli(home, "flows", "disable", "sched-channels")
    assert done.returncode == 0, done.stderr
    once = run_cli(home, "scheduler", "--once", "--json")
    assert once.returncode == 0, once.stderr
    assert once.stdout.strip() == ""
    assert runs_of(home, "sched-channels") == []
    assert slots_of(home, "sched-channels") == []


def test_sigterm_asks_the_run_to_stop_at_its_page_and_exits(home: Path, ct: Sandbox) -> None:
    # The sandbox holds the run's first page: SIGTERM is sent while it is in flight, and the
    # page comes back only once the scheduler has asked the run to stop.
    admin = Admin(ct)
    admin.fault(method="GET", path="/channels", hold=True, count=5)
    scheduler = Process(home, "scheduler", "--json", "--grace", "60")
    try:
        started = scheduler.events(90, _first_decision)[-1]
        assert started["event"] == "started"
        held = admin.held()
        scheduler.send(signal.SIGTERM)
        stopping = scheduler.events(90, lambda e: e["event"] == "stopping")
        assert [e["event"] for e in stopping] == ["stopping"]  # asked before the page is back
        admin.release(held)
        rest = scheduler.events(90, lambda e: e["event"] == "finished")
        assert [e["event"] for e in rest] == ["finished"]
        assert rest[-1]["status"] == "stopped"
        assert scheduler.popen.wait(30) == 0
    finally:
        scheduler.stop()
    [run] = runs_of(home, "sched-channels")
    assert (run.id, run.status, run.stop_requested) == (started["run_id"], "stopped", True)
    # It stopped at its page: the one in flight came back and was committed (a checkpoint to
    # resume from), and no other page was asked for.
    assert run.checkpoint is not None
    with opened_store(home) as store:
        messages = [line.message for line in store.run_logs.of(run.id)]
    assert "stopped on request; resume to continue" in messages
    assert [fault["count"] for fault in admin.faults()] == [4]
