"""Runs as the shells see them: history, one run's log and failures, a dry run's changes, and
stopping, resuming and retrying by id."""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from cartwire.flows import preview
from cartwire.flows.progress import Progress
from cartwire.flows.runner import FlowRunner
from cartwire.services.clients import opener
from cartwire.store import Store
from cartwire.store.planned_writes import PlannedWrite
from cartwire.store.runs import Run


class RunView(BaseModel):
    """A run and its counts by outcome (read, created, updated, unchanged, skipped, failed)."""

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
    retry_of: int | None
    stop_requested: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    limit: int | None
    duration: timedelta | None  # start to end, or to now while it runs

    @classmethod
    def of(cls, run: Run) -> "RunView":
        """Read from the run's attributes, so a field added to both needs no third mention."""
        return cls.model_validate(run, from_attributes=True)


class LogLine(BaseModel):
    at: datetime
    level: str
    message: str


class FailureView(BaseModel):
    """A record the run failed on: the fields the flow reads of it, never a secret."""

    output: str
    key: str | None
    code: str | None
    message: str
    record: dict[str, Any]


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

    def get(self, run_id: int) -> RunView:
        return RunView.of(self._store.runs.get(run_id))

    def logs(self, run_id: int) -> list[LogLine]:
        return [
            LogLine(at=line.at, level=line.level, message=line.message)
            for line in self._store.run_logs.of(run_id)
        ]

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

    def _runner(self, run_id: int) -> FlowRunner:
        recorded = self._store.runs.get(run_id)
        return FlowRunner.from_run(self._store, recorded, opener(self._store))
