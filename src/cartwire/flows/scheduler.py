"""The scheduler: runs enabled flows whose `schedule` triggers (5-field cron, UTC) came due.

Decisions, and why:

- A flow's slot is the most recent instant, at or before now, that any of its cron expressions
  names (several `schedule` triggers merge into one timeline; two naming the same minute make
  one slot). Only that latest slot is ever run.
- Missed slots: while no scheduler was running, slots came and went. On start, the latest one
  is run once (it is still "the most recent due slot" and nobody claimed it); older ones are
  skipped, since an incremental flow's next run covers everything they would have read, and
  running a backlog of identical syncs would only delay the current one. The same holds for a
  binding that was just enabled: its latest slot runs at the next poll.
- Exactly one run per slot, however many schedulers: the slot is claimed in the store
  (`ScheduleSlots.claim`, a primary key) and only the claimer runs it. The claim survives restarts,
  so a restarted scheduler never runs a slot twice. A claimed slot is never retried, even if its
  run could not start: the next slot is the retry.
- A slot whose binding still has a run going (the previous slot's, a manual one, a webhook's)
  is logged and skipped (`RunBusy`), not queued: the next slot will catch up.
- Runs happen in worker threads (`background.ThreadLauncher`), so one long flow does not hold
  up the others' slots; with a broker they are queued for the Celery workers instead (the
  slot's event says `status: queued`), and the scheduler neither waits for nor stops them.
- Stopping (`shutdown`): every run in flight is asked to stop at its next page boundary, the
  same request as `cartwire runs stop` (status `stopped`, resumable with `cartwire runs resume`;
  an incremental flow's next slot also simply carries on from its cursor). Runs that have not
  reached a page boundary within the grace period are abandoned with the process; the store
  sees their owner gone and marks them `interrupted`, equally resumable.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from croniter import croniter

from cartwire.flows.background import Launcher
from cartwire.flows.catalog import FlowFile, FlowNotFound, find_by_name
from cartwire.flows.problems import FlowInvalid
from cartwire.flows.schema import Flow
from cartwire.store import Store
from cartwire.store.bindings import Binding
from cartwire.store.errors import StoreError
from cartwire.store.runs import Run, RunBusy

log = logging.getLogger(__name__)

Action = Literal["started", "taken", "busy", "error", "finished", "stopping"]


def schedules(flow: Flow) -> list[str]:
    """The cron expressions of a flow's `schedule` triggers, in file order."""
    return [t.schedule for t in flow.triggers if t.schedule is not None]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the scheduler works in tz-aware UTC datetimes")
    return moment.astimezone(UTC)


def latest_slot(crons: Iterable[str], now: datetime) -> datetime | None:
    """The most recent slot at or before `now` over all expressions (None without any).

    croniter's `get_prev` is strict (at exactly 10:00 it answers 09:00), so the slot after the
    previous one is checked too: a slot that falls exactly on `now` is due.
    """
    now = _utc(now)
    found: datetime | None = None
    for expression in crons:
        previous = croniter(expression, now).get_prev(datetime)
        following = croniter(expression, previous).get_next(datetime)
        slot = following if following <= now else previous
        found = slot if found is None or slot > found else found
    return found


def next_slot(crons: Iterable[str], now: datetime) -> datetime | None:
    """The first slot strictly after `now` over all expressions (None without any)."""
    now = _utc(now)
    slots = [croniter(expression, now).get_next(datetime) for expression in crons]
    return min(slots) if slots else None


@dataclass(frozen=True)
class Event:
    """One thing the scheduler decided or saw; printed by the CLI, one line each."""

    action: Action
    flow: str | None = None
    slot: datetime | None = None
    run_id: int | None = None
    status: str | None = None
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        found: dict[str, Any] = {"event": self.action, "flow": self.flow}
        if self.slot is not None:
            found["slot"] = self.slot.isoformat()
        if self.run_id is not None:
            found["run_id"] = self.run_id
        if self.status is not None:
            found["status"] = self.status
        if self.counts:
            found.update(self.counts)
        if self.message:
            found["message"] = self.message
        return found


FlowFinder = Callable[[str], FlowFile]


class Scheduler:
    """One scheduler process's view: which slots it claimed and which runs it has in flight."""

    def __init__(
        self,
        store: Store,
        launch: Launcher,
        *,
        find_flow: FlowFinder = find_by_name,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.launch = launch
        self.find_flow = find_flow
        self.clock = clock
        # The runs started in this process's threads (not those queued): flow and end.
        self.in_flight: dict[int, tuple[str, Future[Run]]] = {}
        # Slots this process already decided on, so a poll does not knock on the store again.
        self._decided: dict[str, datetime] = {}
        self._crons: dict[str, list[str]] = {}
        self._broken: dict[str, str] = {}

    # -- one pass ----------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Event]:
        """Claim and start every enabled flow's latest due slot that nobody has claimed yet."""
        now = _utc(now or self.clock())
        events: list[Event] = []
        self._crons = {}
        for binding in self.store.bindings.all():
            if binding.enabled:
                event = self._consider(binding, now)
                if event is not None:
                    events.append(event)
        return events

    def _consider(self, binding: Binding, now: datetime) -> Event | None:
        try:
            flow_file = self.find_flow(binding.flow)
        except (FlowNotFound, FlowInvalid) as exc:
            # Reported once (until it changes), not at every poll.
            message = str(exc)
            if self._broken.get(binding.flow) == message:
                return None
            self._broken[binding.flow] = message
            log.error("flow %s cannot be scheduled: %s", binding.flow, message)
            return Event("error", binding.flow, message=message)
        self._broken.pop(binding.flow, None)
        crons = schedules(flow_file.flow)
        if not crons:
            return None
        self._crons[binding.flow] = crons
        slot = latest_slot(crons, now)
        if slot is None or self._decided.get(binding.flow) == slot:
            return None
        self._decided[binding.flow] = slot
        if not self.store.schedule_slots.claim(binding.flow, slot):
            return Event("taken", binding.flow, slot, message="already claimed")
        try:
            launched = self.launch(flow_file, binding, trigger="schedule")
        except RunBusy as exc:
            log.warning("flow %s slot %s skipped: %s", binding.flow, slot.isoformat(), exc)
            return Event("busy", binding.flow, slot, exc.run_id, message=str(exc))
        except Exception as exc:  # this flow could not start; the others still may
            log.exception("flow %s slot %s could not start", binding.flow, slot.isoformat())
            return Event("error", binding.flow, slot, message=f"{type(exc).__name__}: {exc}")
        self.store.schedule_slots.started(binding.flow, slot, launched.run_id)
        log.info("flow %s slot %s: run %d", binding.flow, slot.isoformat(), launched.run_id)
        if launched.done is None:  # the workers' now: nothing here to wait for or stop
            return Event("started", binding.flow, slot, launched.run_id, "queued")
        self.in_flight[launched.run_id] = (binding.flow, launched.done)
        return Event("started", binding.flow, slot, launched.run_id)

    # -- runs in flight ----------------------------------------------------------------------

    def reap(self) -> list[Event]:
        """`finished` events for the runs that ended since the last call."""
        events: list[Event] = []
        for run_id, (flow, done) in list(self.in_flight.items()):
            if not done.done():
                continue
            del self.in_flight[run_id]
            error = done.exception()
            if error is not None:
                events.append(Event("finished", flow, None, run_id, "failed", str(error)))
                continue
            run = done.result()
            events.append(
                Event("finished", flow, None, run_id, run.status, run.error or "", run.counts)
            )
        return events

    def wake_in(self, now: datetime | None = None, poll: float = 30.0) -> float:
        """Seconds to sleep: until the next slot of the flows seen at the last tick, or `poll`
        (flow files and bindings may change in between, so never longer than that)."""
        now = _utc(now or self.clock())
        upcoming = [s for crons in self._crons.values() if (s := next_slot(crons, now))]
        if not upcoming:
            return poll
        return max(0.0, min(poll, (min(upcoming) - now).total_seconds()))

    def request_stop(self) -> Event | None:
        """Ask every run in flight to stop at its next page (resumable)."""
        asked: list[int] = []
        for run_id in list(self.in_flight):
            try:
                self.store.runs.request_stop(run_id)
                asked.append(run_id)
            except StoreError:  # it finished in the meantime
                continue
        if not asked:
            return None
        return Event("stopping", message="asked runs to stop: " + ", ".join(map(str, asked)))

    def wait(self, timeout: float | None, interrupted: threading.Event | None = None) -> bool:
        """Wait for the runs in flight to end (True), or for the timeout or `interrupted`
        (False). Short steps, so a signal handler setting `interrupted` is noticed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while pending := [done for _, done in self.in_flight.values() if not done.done()]:
            if interrupted is not None and interrupted.is_set():
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            futures.wait(pending, timeout=0.2)
        return True

    # -- the loop ----------------------------------------------------------------------------

    def serve(
        self,
        stop: threading.Event,
        emit: Callable[[Event], None],
        *,
        poll: float = 30.0,
        grace: float = 60.0,
        once: bool = False,
        force: threading.Event | None = None,
    ) -> None:
        """Run due slots until `stop` is set (a signal handler sets it), then shut down: ask
        the runs in flight to stop at their next page and wait up to `grace` seconds (or until
        `force`). With `once`: one pass, then wait for the runs it started."""
        while not stop.is_set():
            self._pass(emit)
            if once:
                self.wait(None, stop)
                break
            until = time.monotonic() + max(0.05, self.wake_in(poll=poll) + 0.05)
            while not stop.is_set() and (left := until - time.monotonic()) > 0:
                stop.wait(min(left, 0.5))
                for event in self.reap():
                    emit(event)
        if stop.is_set() and self.in_flight:
            asked = self.request_stop()
            if asked is not None:
                emit(asked)
            self.wait(grace, force)
        for event in self.reap():
            emit(event)

    def _pass(self, emit: Callable[[Event], None]) -> None:
        try:
            events = self.tick()
        except StoreError as exc:  # e.g. the database is locked or unreachable: try next poll
            log.error("scheduler pass failed: %s", exc)
            events = [Event("error", message=str(exc))]
        for event in [*events, *self.reap()]:
            emit(event)
