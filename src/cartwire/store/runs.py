"""Runs: their lifecycle (start, claim, pages, finish, stop), their lock and given records.

The property everything here serves: a run killed at any moment resumes with nothing lost or
doubled. So a page's progress (paginator checkpoint, counts, failed records, log lines, planned
writes, the incremental cursor) is committed in ONE transaction after the destination accepted
the page, and the one-active-run lock is a primary key, not a convention. The parts a page
touches live in their own modules (`cursors`, `run_failures`, `run_logs`, `planned_writes`),
each with a `keep`/`advance` that writes inside this transaction; runs own only the run rows.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwire.procinfo import owner_alive
from cartwire.store import cursors, planned_writes, run_failures, run_logs
from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.errors import StoreError
from cartwire.store.models import RUN_STATUSES, ActiveRunRow, RunInputRow, RunRow
from cartwire.store.payloads import seal
from cartwire.store.planned_writes import PlannedWrite
from cartwire.store.run_failures import Failure

STATUSES = RUN_STATUSES
FINISHED = ("succeeded", "partially succeeded", "failed", "stopped")
RESUMABLE = ("stopped", "interrupted", "failed", "running")
OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")  # of a record at an output
COUNTS = ("read", *OUTCOMES)
INPUTS_COLUMN = "run_inputs.records_enc"
# An owner on another host that has not written a heartbeat for this long is presumed dead.
STALE_AFTER = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


class RunBusy(StoreError):
    """The binding already has an unfinished run that is still alive."""

    def __init__(self, run_id: int, status: str) -> None:
        super().__init__(
            f"run {run_id} of this flow binding is {status}; wait for it, stop it "
            f"(`cartwire runs stop {run_id}`) or resume it (`cartwire runs resume {run_id}`)"
        )
        self.run_id = run_id


class RunNotFound(StoreError):
    pass


@dataclass(frozen=True)
class Run:
    id: int
    flow: str
    flow_version: int
    flow_text: str
    trigger: str
    source: str
    destination: str
    full: bool
    dry_run: bool
    status: str
    counts: dict[str, int]
    steps: dict[str, dict[str, int]]  # the counts by step: the source's read and each output
    checkpoint: dict[str, Any] | None
    retry_of: int | None
    owner: str | None
    stop_requested: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    cursor_before: dict[str, Any] | None  # the incremental cursor as the run started
    cursor_after: dict[str, Any] | None  # and as it ended; None while it has not
    limit: int | None = None  # read at most this many source records (`flows run --limit`)

    @property
    def duration(self) -> timedelta | None:
        """From its start to its end, or to now while it runs (a resumed run's includes the
        time it lay interrupted); None before it started."""
        if self.started_at is None:
            return None
        return (self.ended_at or _now()) - self.started_at


@dataclass
class PageProgress:
    """What one committed page adds to a run."""

    checkpoint: dict[str, Any] | None
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, dict[str, int]] = field(default_factory=dict)  # the counts, by step
    failures: list[Failure] = field(default_factory=list)
    cursor: dict[str, Any] | None = None  # the incremental position after the page, if any
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    planned: list[PlannedWrite] = field(default_factory=list)  # a dry run's; KEPT_CHANGES kept


def run_of(row: RunRow) -> Run:
    return Run(
        id=row.id,
        flow=row.flow,
        flow_version=row.flow_version,
        flow_text=row.flow_text,
        trigger=row.trigger,
        source=row.source,
        destination=row.destination,
        full=row.full,
        dry_run=row.dry_run,
        status=row.status,
        counts=dict(row.counts),
        steps={step: dict(counts) for step, counts in row.step_counts.items()},
        checkpoint=row.checkpoint,
        retry_of=row.retry_of,
        owner=row.owner,
        stop_requested=row.stop_requested,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        cursor_before=row.cursor_before,
        cursor_after=row.cursor_after,
        limit=row.record_limit,
    )


def _added(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {**counts, **{name: counts.get(name, 0) + n for name, n in more.items()}}


def _cursor_of(session: Session, row: RunRow) -> dict[str, Any] | None:
    """Where the cursor of the run's binding is now, as the run ends."""
    return cursors.position(session, (row.flow, row.source, row.destination))


def _run_row(session: Session, run_id: int) -> RunRow:
    row = session.get(RunRow, run_id)
    if row is None:
        raise RunNotFound(f"no run {run_id}; see `cartwire runs list`")
    return row


def _take_lock(
    session: Session, key: tuple[str, str, str], run_id: int | None = None
) -> ActiveRunRow | None:
    """Free a binding's one-run lock for a new or resumed run: the lock row if `run_id`
    already holds it, else None once it is free. A live holder raises `RunBusy`; an unfinished
    holder whose process died is marked interrupted (resumable) and gives the lock up."""
    active = session.get(ActiveRunRow, key)
    if active is None or active.run_id == run_id:
        return active
    holder = session.get(RunRow, active.run_id)
    if holder is not None and holder.status not in FINISHED:
        if not _dead(holder):
            raise RunBusy(holder.id, holder.status)
        holder.status, holder.owner = "interrupted", None
    session.delete(active)
    session.flush()
    return None


def _dead(row: RunRow) -> bool:
    if row.status == "queued":
        return False
    if row.owner is None:
        return True
    alive = owner_alive(row.owner)
    if alive is None:  # another host: trust its heartbeat
        beat = row.heartbeat_at or row.started_at or row.created_at
        return _now() - beat > STALE_AFTER
    return not alive


class Runs:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    def start(
        self,
        *,
        flow: str,
        version: int,
        text: str,
        trigger: str,
        source: str,
        destination: str,
        full: bool,
        dry_run: bool,
        owner: str,
        retry_of: int | None = None,
        inputs: list[dict[str, Any]] | None = None,
        limit: int | None = None,
        steps: dict[str, dict[str, int]] | None = None,
    ) -> Run:
        """Create a running run holding the binding's lock; an unfinished run whose process died
        is marked interrupted and gives the lock up (its progress is in the cursor). `inputs`,
        the records the run is given rather than reads, are stored with it in the same
        transaction (sealed: `cartwire.store.payloads`): a run that exists can always be resumed
        with them. `steps` are its counts by step before it counted anything (every step at 0,
        so a run that reads nothing still lists them). The cursor it starts from is kept with
        it, read in the same transaction."""
        key = (flow, source, destination)
        with self._encryption.writing() as (session, keyring):
            _take_lock(session, key)
            now = _now()
            row = RunRow(
                flow=flow,
                flow_version=version,
                flow_text=text,
                trigger=trigger,
                source=source,
                destination=destination,
                full=full,
                dry_run=dry_run,
                status="running",
                counts=dict.fromkeys(COUNTS, 0),
                step_counts=steps or {},
                checkpoint=None,
                retry_of=retry_of,
                owner=owner,
                stop_requested=False,
                created_at=now,
                started_at=now,
                heartbeat_at=now,
                record_limit=limit,
                cursor_before=cursors.position(session, key),
            )
            session.add(row)
            session.flush()
            session.add(
                ActiveRunRow(flow=flow, source=source, destination=destination, run_id=row.id)
            )
            if inputs is not None:
                session.add(RunInputRow(run_id=row.id, records_enc=seal(keyring, inputs)))
            try:
                session.flush()
            except IntegrityError:  # another process won the race for the lock
                session.rollback()
                winner = session.get(ActiveRunRow, (flow, source, destination))
                raise RunBusy(winner.run_id if winner else 0, "starting elsewhere") from None
            return run_of(row)

    def claim(self, run_id: int, owner: str) -> Run:
        """Take an unfinished run over (resume): it must not be running in a live process."""
        with self._sessions.write() as session:
            row = _run_row(session, run_id)
            if row.status not in RESUMABLE:
                raise StoreError(
                    f"run {run_id} {row.status}; only stopped, interrupted or "
                    "failed runs can be resumed"
                )
            if row.status == "running" and not _dead(row):
                raise RunBusy(row.id, "running")
            if _take_lock(session, (row.flow, row.source, row.destination), run_id) is None:
                session.add(
                    ActiveRunRow(
                        flow=row.flow, source=row.source, destination=row.destination, run_id=run_id
                    )
                )
            row.status, row.owner, row.stop_requested = "running", owner, False
            row.ended_at, row.error, row.cursor_after = None, None, None
            row.heartbeat_at = _now()
            session.flush()
            return run_of(row)

    def commit_page(self, run_id: int, progress: PageProgress) -> bool:
        """Record one accepted page atomically (its failed records sealed); answers whether a
        stop was requested."""
        with self._encryption.writing() as (session, keyring):
            row = _run_row(session, run_id)
            row.counts = _added(row.counts, progress.counts)
            steps = dict(row.step_counts)
            for step, counts in progress.steps.items():
                steps[step] = _added(steps.get(step, {}), counts)
            row.step_counts = steps
            row.checkpoint = progress.checkpoint
            row.heartbeat_at = now = _now()
            run_failures.keep(session, keyring, run_id, progress.failures, now)
            run_logs.keep(session, run_id, progress.logs, now)
            if progress.planned:
                planned_writes.keep(session, keyring, run_id, progress.planned)
            if progress.cursor is not None and not row.dry_run:
                cursors.advance(
                    session, (row.flow, row.source, row.destination), progress.cursor, now
                )
            return row.stop_requested

    def finish(self, run_id: int, status: str, error: str | None = None) -> Run:
        """End a run, keeping where the cursor now is (moved by it or not). One that cannot be
        resumed any more lets its given records go."""
        with self._sessions.write() as session:
            row = _run_row(session, run_id)
            row.status, row.error, row.ended_at, row.owner = status, error, _now(), None
            row.cursor_after = _cursor_of(session, row)
            session.execute(delete(ActiveRunRow).where(ActiveRunRow.run_id == run_id))
            if status not in RESUMABLE:
                session.execute(delete(RunInputRow).where(RunInputRow.run_id == run_id))
            session.flush()
            return run_of(row)

    def request_stop(self, run_id: int) -> Run:
        with self._sessions.write() as session:
            row = _run_row(session, run_id)
            if row.status in FINISHED:
                raise StoreError(f"run {run_id} already {row.status}")
            row.stop_requested = True
            if row.status in ("queued", "interrupted") or _dead(row):
                row.status, row.ended_at, row.owner = "stopped", _now(), None
                row.cursor_after = _cursor_of(session, row)
                session.execute(delete(ActiveRunRow).where(ActiveRunRow.run_id == run_id))
            session.flush()
            return run_of(row)

    def get(self, run_id: int) -> Run:
        with self._sessions.read() as session:
            row = _run_row(session, run_id)
            return run_of(row)

    def recent(self, flow: str | None = None, limit: int = 50) -> list[Run]:
        with self._sessions.read() as session:
            query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
            if flow is not None:
                query = query.where(RunRow.flow == flow)
            return [run_of(r) for r in session.scalars(query)]

    def inputs(self, run_id: int) -> list[dict[str, Any]] | None:
        """The records run `run_id` was given, while it may still be resumed; else None."""
        with self._sessions.read() as session:
            row = session.get(RunInputRow, run_id)
            token = None if row is None else row.records_enc
        if token is None:
            return None
        records: list[dict[str, Any]] = json.loads(
            self._encryption.decrypt(token, INPUTS_COLUMN, None)
        )
        return records

    def interrupted_with_inputs(self) -> list[Run]:
        """Interrupted runs that still hold the records they were given (webhook runs whose
        process died), oldest first."""
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunRow)
                .join(RunInputRow, RunInputRow.run_id == RunRow.id)
                .where(RunRow.status == "interrupted")
                .order_by(RunRow.id)
            )
            return [run_of(r) for r in rows]

    def mark_interrupted_if_dead(self) -> list[int]:
        """Runs left `running` by a process that is gone (after a crash or kill -9)."""
        with self._sessions.write() as session:
            rows = session.scalars(select(RunRow).where(RunRow.status == "running")).all()
            dead = [r for r in rows if _dead(r)]
            for row in dead:
                row.status, row.owner = "interrupted", None
            if dead:
                session.execute(
                    delete(ActiveRunRow).where(ActiveRunRow.run_id.in_([r.id for r in dead]))
                )
            return [r.id for r in dead]

    def active(self, flow: str) -> list[Run]:
        """The flow's runs that hold a binding's lock in a live process, oldest first (a holder
        whose process died is not one: it is interrupted, as `mark_interrupted_if_dead` says)."""
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunRow)
                .join(ActiveRunRow, ActiveRunRow.run_id == RunRow.id)
                .where(ActiveRunRow.flow == flow)
                .order_by(RunRow.id)
            )
            return [run_of(r) for r in rows if r.status not in FINISHED and not _dead(r)]
