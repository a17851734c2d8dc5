"""Runs as the shells see them: history (filtered and paged), a dashboard of recent ones, one
run's log (paged from its end) and failures, a dry run's changes, and stopping, resuming and
retrying by id."""

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, computed_field, field_validator

from cartwire.flows import preview
from cartwire.flows.failure_reasons import ADVICE, retryable
from cartwire.flows.progress import Progress, Update
from cartwire.flows.runner import FlowRunner
from cartwire.refusals import FieldRefused
from cartwire.services.clients import opener
from cartwire.services.dispatch import broker_url, queue_of
from cartwire.store import Store
from cartwire.store.planned_writes import PlannedWrite
from cartwire.store.run_history import RunQuery
from cartwire.store.run_logs import LEVELS
from cartwire.store.run_logs import LogLine as StoredLine
from cartwire.store.runs import FINISHED, Run
from cartwire.store.runs import STATUSES as STATUSES  # the shells offer them as filters

MOST_RUNS = 500  # runs a page of `find` may hold
MOST_LINES = 1000  # log lines a page of `log_page` may hold
MOST_PER_FLOW = 100  # runs `last_runs` may give of each flow


class QueryRefused(FieldRefused):
    """A query the store cannot answer as asked: which field, and the rule it broke."""


def _one_of(field: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise QueryRefused(field, f"must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _check_limit(field: str, value: int, most: int) -> None:
    if not 1 <= value <= most:
        raise QueryRefused(field, f"must be from 1 to {most} (got {value})")


class RunView(BaseModel):
    """A run and its counts by outcome (read, created, updated, unchanged, skipped, failed), and
    the same by step (`steps`): "read" the source's read, then each output by its name. The
    incremental cursor as it started and ended (`cursor_after` None until it ends)."""

    id: int
    flow: str
    flow_version: int
    trigger: str
    source: str
    destination: str
    full: bool
    dry_run: bool
    status: str
    counts: dict[str, int]
    steps: dict[str, dict[str, int]]
    cursor_before: dict[str, Any] | None
    cursor_after: dict[str, Any] | None
    retry_of: int | None
    stop_requested: bool
    error: str | None
    failure_kind: str | None  # configuration, transient, data, conflict or internal
    shard_of: int | None  # a shard's run: the run whose read it is a part of (workers)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def retryable(self) -> bool | None:
        """Whether running it again (or retrying its records) as it is may mend the failure."""
        return retryable(self.failure_kind)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failure_advice(self) -> str | None:
        return ADVICE.get(self.failure_kind or "")

    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    limit: int | None
    duration: timedelta | None  # start to end, or to now while it runs

    @classmethod
    def of(cls, run: Run) -> "RunView":
        """Read from the run's attributes, so a field added to both needs no third mention."""
        return cls.model_validate(run, from_attributes=True)


class RunFilter(BaseModel):
    """Which runs `RunService.find` lists: each field given must match. `instance` is the run's
    source or its destination; `since` (inclusive) and `until` (exclusive) are of when the run
    was created, and must say their time zone."""

    flow: str | None = None
    instance: str | None = None
    status: str | None = None
    trigger: str | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @field_validator("status")
    @classmethod
    def _a_status(cls, status: str | None) -> str | None:
        return None if status is None else _one_of("status", status, STATUSES)


class RunPage(BaseModel):
    """`limit` runs from `offset` on of the `total` a filter matches, newest first."""

    items: list[RunView]
    total: int
    limit: int
    offset: int


class LogLine(BaseModel):
    id: int  # lines are written in id order; a page ends at one
    at: datetime
    level: str
    message: str

    @classmethod
    def of(cls, line: StoredLine) -> "LogLine":
        return cls.model_validate(line, from_attributes=True)


class LogPage(BaseModel):
    """Log lines oldest first; `older` is the `before` that gets the page before these, None
    when there is none."""

    lines: list[LogLine]
    older: int | None


class Dashboard(BaseModel):
    """Runs created since `since`: how many have each status, and the records they created,
    updated or deleted (dry runs moved none); and the flows whose last finished run (not a dry
    run) failed or partially succeeded, however long ago."""

    since: datetime
    runs: dict[str, int]
    records_moved: int
    failing_flows: list[str]


class FailureView(BaseModel):
    """A record the run failed on: the fields the flow reads of it, never a secret."""

    output: str
    key: str | None
    code: str | None
    message: str
    record: dict[str, Any]
    kind: str | None  # None for a failure kept before kinds were

    @computed_field  # type: ignore[prop-decorator]
    @property
    def retryable(self) -> bool | None:
        return retryable(self.kind)


class FailureGroupView(BaseModel):
    """Failures with one reason: how many, and the keys of the first few records."""

    output: str
    code: str | None
    message: str
    count: int
    keys: list[str | None]


class DryRunChanges(BaseModel):
    """What a dry run would have written to `records` records: `entries` one per created
    record or changed field (the `--json` shape), `lines` as text; the changes of `omitted`
    more records were not kept."""

    records: int
    entries: list[dict[str, Any]]
    lines: list[str]
    omitted: int = 0

    @classmethod
    def of(cls, writes: list[PlannedWrite], omitted: int = 0) -> "DryRunChanges":
        lines = [line for write in writes for line in preview.lines(write)]
        return cls(
            records=len(writes), entries=preview.entries(writes), lines=lines, omitted=omitted
        )


class RunService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def all(self, flow: str | None = None, limit: int = 20) -> list[RunView]:
        """Newest first; runs whose process died are marked interrupted first."""
        self._store.runs.mark_interrupted_if_dead()
        return [RunView.of(run) for run in self._store.runs.recent(flow, limit)]

    def find(self, filter: RunFilter, limit: int = 50, offset: int = 0) -> RunPage:
        """A page of the runs `filter` matches, newest first; runs whose process died are
        marked interrupted first, so a status filter sees them so."""
        _check_limit("limit", limit, MOST_RUNS)
        if offset < 0:
            raise QueryRefused("offset", f"must be 0 or more (got {offset})")
        self._store.runs.mark_interrupted_if_dead()
        query = RunQuery(**filter.model_dump())
        runs, total = self._store.run_history.find(query, limit, offset)
        return RunPage(items=[RunView.of(r) for r in runs], total=total, limit=limit, offset=offset)

    def dashboard(self, since: datetime) -> Dashboard:
        """What the runs created since `since` did, and which flows are failing now."""
        if since.tzinfo is None:
            raise QueryRefused("since", "must say its time zone (e.g. 2026-12-01T00:00:00Z)")
        self._store.runs.mark_interrupted_if_dead()
        history = self._store.run_history
        counted = history.by_status(since)
        return Dashboard(
            since=since,
            runs={status: counted.get(status, 0) for status in STATUSES},
            records_moved=history.records_moved(since),
            failing_flows=history.failing_flows(),
        )

    def last_runs(self, flows: list[str], per_flow: int = 5) -> dict[str, list[RunView]]:
        """The newest `per_flow` runs of each flow, newest first ([] for one never run)."""
        _check_limit("per_flow", per_flow, MOST_PER_FLOW)
        self._store.runs.mark_interrupted_if_dead()
        latest = self._store.run_history.latest(flows, per_flow)
        return {flow: [RunView.of(run) for run in runs] for flow, runs in latest.items()}

    def get(self, run_id: int) -> RunView:
        return RunView.of(self._store.runs.get(run_id))

    def logs(self, run_id: int) -> list[LogLine]:
        """Every line of the run's log, oldest first (`runs show`)."""
        return [LogLine.of(line) for line in self._store.run_logs.of(run_id)]

    def log_page(
        self,
        run_id: int,
        *,
        level: str | None = None,
        errors_only: bool = False,
        before: int | None = None,
        limit: int = 100,
    ) -> LogPage:
        """The newest `limit` lines before line `before` (from the end when None) of `level`
        or more severe (`errors_only`: error), oldest first; the page's `older` gets the page
        before it. An unknown run is `RunNotFound`, as for `get`."""
        _check_limit("limit", limit, MOST_LINES)
        least = "error" if errors_only else _one_of("level", level or LEVELS[0], LEVELS)
        self._store.runs.get(run_id)  # RunNotFound, rather than a page of nothing
        lines, more = self._store.run_logs.tail(
            run_id, levels=LEVELS[LEVELS.index(least) :], before=before, limit=limit
        )
        shown = [LogLine.of(line) for line in lines]
        return LogPage(lines=shown, older=shown[0].id if more and shown else None)

    def failures(self, run_id: int) -> list[FailureView]:
        return [FailureView(**f.__dict__) for f in self._store.run_failures.of(run_id)]

    def failure_groups(self, run_id: int) -> list[FailureGroupView]:
        return [FailureGroupView(**g.__dict__) for g in self._store.run_failures.groups(run_id)]

    def changes(self, run_id: int) -> DryRunChanges | None:
        """A dry run's kept changes; None for a run that wrote for real."""
        run = self._store.runs.get(run_id)
        return DryRunChanges.of(*preview.kept(self._store, run)) if run.dry_run else None

    def stop(self, run_id: int) -> RunView:
        """Ask the run to stop after its current page (it can be resumed)."""
        return RunView.of(self._store.runs.request_stop(run_id))

    def resume(self, run_id: int, progress: Progress | None = None) -> RunView:
        """Continue an interrupted or stopped run from its last checkpoint."""
        return RunView.of(self._runner(run_id).resume(run_id, progress))

    def retry(self, run_id: int, progress: Progress | None = None) -> RunView:
        """A new run of only the records `run_id` failed on, read again from the source."""
        return RunView.of(self._runner(run_id).retry(run_id, progress))

    def on_workers(self) -> bool:
        """Whether this deployment's runs go to the workers (a broker is configured): resuming
        and retrying from the CLI then `enqueue` the run, as the HTTP API does."""
        return broker_url() is not None

    def enqueue(self, run_id: int, *, retry: bool = False) -> RunView:
        """Resume the run on the workers (queued again at a new slice), or with `retry` queue a
        new run of only the records it failed on; `NoBroker` without a broker."""
        queue = queue_of(self._store)
        recorded = self._store.runs.get(run_id)
        queued = queue.retry(recorded) if retry else queue.resume(recorded)
        return RunView.of(self._store.runs.get(queued))

    def followed(self, run_id: int, progress: Progress | None = None, poll: float = 0.5) -> RunView:
        """The run once it has ended, read from the store every `poll` seconds, telling
        `progress` its counts as they change: a run on the workers, whose pages this process
        does not see."""
        told: dict[str, int] | None = None
        while True:
            run = self._store.runs.get(run_id)
            if progress is not None and run.counts != told:
                told = dict(run.counts)
                progress(Update("page", told))
            if run.status in FINISHED:
                return RunView.of(run)
            time.sleep(poll)

    def _runner(self, run_id: int) -> FlowRunner:
        recorded = self._store.runs.get(run_id)
        return FlowRunner.from_run(self._store, recorded, opener(self._store))
