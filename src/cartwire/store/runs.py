"""Runs: their lifecycle (start, claim, pages, finish, stop), their lock and given records.

The property everything here serves: a run killed at any moment resumes with nothing lost or
doubled. So a page's progress (paginator checkpoint, counts, failed records, log lines, planned
writes, the incremental cursor) is committed in ONE transaction after the destination accepted
the page, and the one-active-run lock is a primary key, not a convention. The parts a page
touches live in their own modules (`cursors`, `run_failures`, `run_logs`, `planned_writes`),
each with a `keep`/`advance` that writes inside this transaction; runs own only the run rows.

Runs on workers go in slices, each a message that a queue delivers at least once (see
`take_slice`): the run's `slice_no` says which slice's message may take it next, and every
takeover (a slice, or `claim`) raises its fencing token `lease_token`. A page or an ending is
committed only under the run's current token (`fence`), with the row locked, so a slice whose
run was taken over since commits nothing: its page counts once, under the one that holds it.

A large full read on workers may be cut into shards (`shard`): each shard is a run of its own
(`shard_of` names the run it belongs to) with its own checkpoint, slice and token, so many
workers read one run at once. A shard's page adds its counts and failed records to its run in
the same transaction; the run holds the binding's lock and no holder of its own while its
shards go on, and ends, with the status its counts earn, in the transaction that ends its last
shard, which is also where its incremental cursor moves: only once every shard has passed it.
"""

import json
from collections.abc import Callable
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


class LeaseLost(StoreError):
    """A commit under a fencing token the run no longer has: it was taken over since (by a
    slice delivered again, or a resume), and what this holder did would count twice."""

    def __init__(self, run_id: int, fence: int, token: int) -> None:
        super().__init__(
            f"run {run_id} was taken over (fencing token {fence} is stale, the run's is "
            f"{token}); this holder commits nothing more"
        )
        self.run_id = run_id


class SliceRefused(StoreError):
    """A slice's message that may not take its run: the run ended, is at another slice (the
    message is a duplicate or stale), or its slice is being processed by a live holder."""


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
    failure_kind: str | None  # `cartwire.flows.failure_reasons`: why it failed, by kind
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    cursor_before: dict[str, Any] | None  # the incremental cursor as the run started
    cursor_after: dict[str, Any] | None  # and as it ended; None while it has not
    limit: int | None = None  # read at most this many source records (`flows run --limit`)
    slice_no: int = 0  # on workers: the slice the run is at (`Runs.take_slice`)
    lease_token: int = 0  # the fencing token its holder commits under
    shard_of: int | None = None  # a shard's run: the run whose read it is a part of

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
        failure_kind=row.failure_kind,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        cursor_before=row.cursor_before,
        cursor_after=row.cursor_after,
        limit=row.record_limit,
        slice_no=row.slice_no,
        lease_token=row.lease_token,
        shard_of=row.shard_of,
    )


def _added(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {**counts, **{name: counts.get(name, 0) + n for name, n in more.items()}}


def _cursor_of(session: Session, row: RunRow) -> dict[str, Any] | None:
    """Where the cursor of the run's binding is now, as the run ends."""
    return cursors.position(session, (row.flow, row.source, row.destination))


def _run_row(session: Session, run_id: int, *, lock: bool = False) -> RunRow:
    """The run's row; with `lock`, locked until the transaction ends (PostgreSQL's FOR UPDATE;
    SQLite's write transactions hold the whole database), so a fencing check and the write it
    guards are one step against any takeover."""
    row = session.get(RunRow, run_id, with_for_update=lock)
    if row is None:
        raise RunNotFound(f"no run {run_id}; see `cartwire runs list`")
    return row


def _fenced(session: Session, run_id: int, fence: int | None) -> RunRow:
    """The run's row, locked, if `fence` is still its token (None: no check); else LeaseLost."""
    row = _run_row(session, run_id, lock=True)
    if fence is not None and row.lease_token != fence:
        raise LeaseLost(run_id, fence, row.lease_token)
    return row


def _end(
    session: Session,
    row: RunRow,
    status: str,
    error: str | None = None,
    failure_kind: str | None = None,
) -> None:
    """End a run: its status (and why it failed), where the cursor now is, the binding's lock
    given up."""
    row.status, row.error, row.ended_at, row.owner = status, error, _now(), None
    row.failure_kind = failure_kind
    row.cursor_after = _cursor_of(session, row)
    session.execute(delete(ActiveRunRow).where(ActiveRunRow.run_id == row.id))


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
    if row.status == "queued" or _sharded(row):
        return False
    if row.owner is None:
        return True
    alive = owner_alive(row.owner)
    if alive is None:  # another host: trust its heartbeat
        beat = row.heartbeat_at or row.started_at or row.created_at
        return _now() - beat > STALE_AFTER
    return not alive


def _sharded(row: RunRow) -> bool:
    """A run whose read was cut into shards: it has no holder of its own (its shards have),
    and lives until the last of them ends."""
    return row.owner is None and bool((row.checkpoint or {}).get("shards"))


def _shard_status(shards: list[RunRow], counts: dict[str, int]) -> tuple[str, str | None]:
    """The status of a run whose shards all ended: stopped if one was, failed (with its error)
    if one failed as a whole, else what the summed counts earn."""
    for status in ("stopped", "failed"):
        for shard in shards:
            if shard.status == status and (status == "stopped" or shard.error):
                return status, shard.error
    if not counts.get("failed"):
        return "succeeded", None
    written = sum(counts.get(k, 0) for k in ("created", "updated", "unchanged"))
    return ("partially succeeded" if written else "failed"), None


# The cursor a sharded run's read leaves, from its shards' final checkpoints (None: stays).
ShardCursor = Callable[[list[dict[str, Any]]], dict[str, Any] | None]


def _shard_ended(session: Session, shard: RunRow, cursor: ShardCursor | None = None) -> None:
    """After a shard ended (in the same transaction): end its run once no shard of it is left
    unfinished, moving the cursor to `cursor(checkpoints)` if every shard succeeded."""
    if shard.shard_of is None:
        return
    run = _run_row(session, shard.shard_of, lock=True)
    shards = session.scalars(select(RunRow).where(RunRow.shard_of == run.id)).all()
    if run.status in FINISHED or any(s.status not in FINISHED for s in shards):
        return
    status, error = _shard_status(list(shards), run.counts)
    if (
        cursor is not None
        and status == "succeeded"
        and all(s.status == "succeeded" for s in shards)
        and not run.dry_run
        and (position := cursor([s.checkpoint or {} for s in shards])) is not None
    ):
        cursors.advance(session, (run.flow, run.source, run.destination), position, _now())
    _end(session, run, status, error)


def _resend_shards(
    session: Session, row: RunRow, gone: str, send: Callable[[int, int], None]
) -> None:
    """A cut run whose holder died before it sent every shard's message (or was marked
    interrupted): the message of each shard still queued is sent again, inside this
    transaction. A copy of one that did go out is refused as a duplicate by `take_slice`."""
    queued = session.scalars(
        select(RunRow).where(RunRow.shard_of == row.id, RunRow.status == "queued")
    ).all()
    row.status, row.owner, row.ended_at = "running", None, None
    message = f"the worker that cut it is gone ({gone}): its queued shards' messages sent again"
    run_logs.keep(session, row.id, [("warning", message)], _now())
    session.flush()
    for shard in queued:
        send(shard.id, shard.slice_no)


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
        owner: str | None,
        retry_of: int | None = None,
        inputs: list[dict[str, Any]] | None = None,
        limit: int | None = None,
        steps: dict[str, dict[str, int]] | None = None,
    ) -> Run:
        """Create a running run holding the binding's lock (owner None: a `queued` one, at
        slice 0, that no process runs yet: the workers will, `take_slice`); an unfinished run
        whose process died is marked interrupted and gives the lock up (its progress is in the
        cursor). `inputs`,
        the records the run is given rather than reads, are stored with it in the same
        transaction (sealed: `cartwire.store.payloads`): a run that exists can always be resumed
        with them. `steps` are its counts by step before it counted anything (every step at 0,
        so a run that reads nothing still lists them). The cursor it starts from is kept with
        it, read in the same transaction."""
        key = (flow, source, destination)
        with self._encryption.writing() as (session, keyring):
            _take_lock(session, key)
            now = _now()
            started = None if owner is None else now
            row = RunRow(
                flow=flow,
                flow_version=version,
                flow_text=text,
                trigger=trigger,
                source=source,
                destination=destination,
                full=full,
                dry_run=dry_run,
                status="queued" if owner is None else "running",
                counts=dict.fromkeys(COUNTS, 0),
                step_counts=steps or {},
                checkpoint=None,
                retry_of=retry_of,
                owner=owner,
                stop_requested=False,
                created_at=now,
                started_at=started,
                heartbeat_at=started,
                record_limit=limit,
                cursor_before=cursors.position(session, key),
                slice_no=0,
                lease_token=0,
                on_workers=owner is None,
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
        """Take an unfinished run over (resume): it must not be running in a live process. It
        gets a new fencing token and slice, so neither an old holder nor a slice's message
        still in a queue can commit to it or take it any more."""
        with self._sessions.write() as session:
            row = self._resumable(session, run_id)
            row.status, row.owner = "running", owner
            row.heartbeat_at = _now()
            row.on_workers = False  # taken over here: its own process resumes it, if ever
            session.flush()
            return run_of(row)

    def requeue(self, run_id: int, send: Callable[[int], None]) -> Run:
        """Continue an unfinished run on the workers (a resume there): checked as `claim`, then
        `queued` at a new slice, whose message `send(slice)` sends inside this transaction: the
        run is queued only if its message went out."""
        with self._sessions.write() as session:
            row = self._resumable(session, run_id)
            row.status, row.owner, row.heartbeat_at = "queued", None, None
            row.on_workers = True
            session.flush()
            send(row.slice_no)
            return run_of(row)

    def _resumable(self, session: Session, run_id: int) -> RunRow:
        """The row of a run that may be resumed, holding its binding's lock again, at a new
        slice and fencing token, unended."""
        row = _run_row(session, run_id, lock=True)
        if row.status not in RESUMABLE:
            raise StoreError(
                f"run {run_id} {row.status}; only stopped, interrupted or "
                "failed runs can be resumed"
            )
        if row.status == "running" and not _dead(row):
            raise RunBusy(row.id, "running")
        self._hold_lock(session, row)
        row.slice_no += 1
        row.lease_token += 1
        row.stop_requested = False
        row.ended_at, row.error, row.cursor_after = None, None, None
        row.failure_kind = None
        return row

    @staticmethod
    def _hold_lock(session: Session, row: RunRow) -> None:
        """The binding's lock for this run (RunBusy while another live run holds it)."""
        if _take_lock(session, (row.flow, row.source, row.destination), row.id) is None:
            session.add(
                ActiveRunRow(
                    flow=row.flow, source=row.source, destination=row.destination, run_id=row.id
                )
            )

    def take_slice(self, run_id: int, number: int, owner: str) -> Run:
        """Take run `run_id` for its slice `number`, as a worker that got that slice's message
        (a queue may deliver it more than once): the run becomes `running` under `owner` with a
        new fencing token. Refused (`SliceRefused`, saying why) when the run ended, was asked
        to stop (it ends `stopped` now), is at another slice (this message is a duplicate of
        one that was processed, or stale), or its slice is being processed by a holder that is
        alive. A run at this slice that is `queued`, or whose holder died (`running` under a
        dead owner, or marked `interrupted`), is taken: the message came again because its
        worker was lost, and the slice goes on from the run's last checkpoint."""
        with self._sessions.write() as session:
            taken = self._take(session, run_id, number, owner)
        if isinstance(taken, str):  # raised once the transaction is over: a stop is kept
            raise SliceRefused(taken)
        return taken

    def _take(self, session: Session, run_id: int, number: int, owner: str) -> Run | str:
        """`take_slice`'s decision: the run taken, or why not."""
        row = session.get(RunRow, run_id, with_for_update=True)
        if row is None:
            return f"run {run_id} no longer exists"
        if row.status in FINISHED:
            return f"run {run_id} already {row.status}"
        if row.slice_no != number:
            return f"run {run_id} is at slice {row.slice_no}: slice {number} came again or is stale"
        if (row.checkpoint or {}).get("shards"):  # its cutter's message, come again
            return f"run {run_id} was cut into shards: they are processed, not it"
        if row.status == "running" and not _dead(row):
            return f"slice {number} of run {run_id} is being processed by {row.owner}"
        run = row if row.shard_of is None else _run_row(session, row.shard_of, lock=True)
        if row.stop_requested or run.stop_requested:
            _end(session, row, "stopped")
            _shard_ended(session, row)
            return f"run {run.id} stopped on request"
        try:
            if row.shard_of is None:  # a shard's run holds the binding's lock for it
                self._hold_lock(session, row)
        except RunBusy as busy:
            return str(busy)
        row.lease_token += 1
        row.status, row.owner, row.on_workers = "running", owner, True
        row.heartbeat_at = now = _now()
        row.started_at = row.started_at or now
        row.ended_at, row.error, row.cursor_after = None, None, None
        session.flush()
        return run_of(row)

    def shard(self, run_id: int, fence: int, checkpoints: list[dict[str, Any]]) -> list[Run]:
        """Cut a run that has read nothing yet into shards, one per checkpoint (where each
        shard's part of the read starts): each a run of its own, `queued` at slice 0. The run
        keeps the binding's lock until its last shard ends, and its holder until it sent the
        shards' messages (`shards_sent`): they go out once this transaction committed, since
        a worker that looks for a row still being inserted does not wait for it (as it waits
        on a locked one), it finds nothing. Should the holder die before they all went out,
        the sweep sends them again (`requeue_lost`). Raises LeaseLost if `fence` is stale."""
        with self._sessions.write() as session:
            row = _fenced(session, run_id, fence)
            if row.checkpoint is not None:
                raise StoreError(f"run {run_id} has read pages already; it cannot be cut")
            row.checkpoint = {"shards": len(checkpoints)}
            now = _now()
            shards = [
                RunRow(
                    flow=row.flow,
                    flow_version=row.flow_version,
                    flow_text=row.flow_text,
                    trigger=row.trigger,
                    source=row.source,
                    destination=row.destination,
                    full=row.full,
                    dry_run=row.dry_run,
                    status="queued",
                    counts=dict.fromkeys(COUNTS, 0),
                    step_counts={step: dict.fromkeys(c, 0) for step, c in row.step_counts.items()},
                    checkpoint=checkpoint,
                    owner=None,
                    stop_requested=False,
                    created_at=now,
                    cursor_before=row.cursor_before,
                    slice_no=0,
                    lease_token=0,
                    shard_of=row.id,
                    on_workers=True,
                )
                for checkpoint in checkpoints
            ]
            session.add_all(shards)
            session.flush()
            return [run_of(shard) for shard in shards]

    def shards_sent(self, run_id: int, fence: int) -> None:
        """The messages of a cut run's shards all went out: the run has no holder of its own
        any more, only its shards have. Raises LeaseLost if `fence` is stale."""
        with self._sessions.write() as session:
            row = _fenced(session, run_id, fence)
            if row.status == "running":  # not ended by its shards meanwhile
                row.owner = None

    def requeue_lost(self, send: Callable[[int, int], None]) -> list[int]:
        """Queue again, each at a new slice, the runs on workers whose slice was lost with its
        worker: `running` under an owner that is dead (`_dead`: its process is gone, or, on
        another host, its heartbeat is stale), or marked `interrupted` since (by a process
        that found it so, or by a slice whose hand-over the broker refused). `send(run id,
        slice)` sends each one's message inside its transaction, with the row locked, so two
        workers sweeping at once queue it once; the new slice makes the lost message stale,
        should the broker deliver it after all. The ids of the runs queued again."""
        with self._sessions.read() as session:
            found = session.scalars(
                select(RunRow.id).where(
                    RunRow.on_workers.is_(True), RunRow.status.in_(("running", "interrupted"))
                )
            ).all()
        return [run_id for run_id in found if self._requeue_if_lost(run_id, send)]

    def _requeue_if_lost(self, run_id: int, send: Callable[[int, int], None]) -> bool:
        with self._sessions.write() as session:
            row = _run_row(session, run_id, lock=True)
            lost = row.status == "interrupted" or (row.status == "running" and _dead(row))
            if not row.on_workers or not lost:
                return False  # taken, or ended, since it was found
            try:
                if row.shard_of is None:  # a shard's run holds the binding's lock for it
                    self._hold_lock(session, row)
            except RunBusy:  # another run of the binding started meanwhile: resume by hand
                return False
            gone = row.owner or "a process that marked it interrupted"
            if (row.checkpoint or {}).get("shards"):
                _resend_shards(session, row, gone, send)
                return True
            row.slice_no += 1
            row.status, row.owner = "queued", None
            message = f"slice {row.slice_no - 1}'s worker is gone ({gone}): queued again"
            run_logs.keep(session, row.id, [("warning", message)], _now())
            session.flush()
            send(row.id, row.slice_no)
            return True

    def shards(self, run_id: int) -> list[Run]:
        """The shards of a run, in the order they were cut ([] for a run read as one)."""
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunRow).where(RunRow.shard_of == run_id).order_by(RunRow.id)
            )
            return [run_of(r) for r in rows]

    def hand_over(self, run_id: int, fence: int, send: Callable[[int], None]) -> Run:
        """Give a run back to the queue after a slice that left it unfinished: `queued` at the
        next slice, whose message `send(slice)` sends inside this transaction, with the row
        locked, so that message's worker waits for the commit before it looks, and the run is
        handed over only if its message went out. Raises LeaseLost if `fence` is stale."""
        with self._sessions.write() as session:
            row = _fenced(session, run_id, fence)
            row.slice_no += 1
            row.status, row.owner = "queued", None
            session.flush()
            send(row.slice_no)
            return run_of(row)

    def commit_page(self, run_id: int, progress: PageProgress, fence: int | None = None) -> bool:
        """Record one accepted page atomically (its failed records sealed); answers whether a
        stop was requested. With `fence`, only while that is still the run's fencing token
        (else LeaseLost, and nothing is recorded)."""
        with self._encryption.writing() as (session, keyring):
            row = _fenced(session, run_id, fence)
            # A shard's page is its run's too: counted in both, its records kept with the run.
            run = row if row.shard_of is None else _run_row(session, row.shard_of, lock=True)
            for counted in {row.id: row, run.id: run}.values():
                counted.counts = _added(counted.counts, progress.counts)
                steps = dict(counted.step_counts)
                for step, counts in progress.steps.items():
                    steps[step] = _added(steps.get(step, {}), counts)
                counted.step_counts = steps
            row.checkpoint = progress.checkpoint
            row.heartbeat_at = now = _now()
            run_failures.keep(session, keyring, run.id, progress.failures, now)
            run_logs.keep(session, run_id, progress.logs, now)
            if progress.planned:
                planned_writes.keep(session, keyring, run.id, progress.planned)
            if progress.cursor is not None and not row.dry_run:
                cursors.advance(
                    session, (row.flow, row.source, row.destination), progress.cursor, now
                )
            return row.stop_requested or run.stop_requested

    def finish(
        self,
        run_id: int,
        status: str,
        error: str | None = None,
        fence: int | None = None,
        failure_kind: str | None = None,
        cursor: ShardCursor | None = None,
    ) -> Run:
        """End a run, keeping where the cursor now is (moved by it or not). One that cannot be
        resumed any more lets its given records go. With `fence`, only while that is still the
        run's fencing token (else LeaseLost). A shard's last end ends its run too (`cursor`
        says where that run's cursor moves, if all its shards succeeded)."""
        with self._sessions.write() as session:
            row = _fenced(session, run_id, fence)
            _end(session, row, status, error, failure_kind)
            if status in FINISHED:
                _shard_ended(session, row, cursor)
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
                _end(session, row, "stopped")
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
