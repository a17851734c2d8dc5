"""A run's log lines, for `runs show`: what happened to the run, not to each record.

Written on their own (a run's start, resume or webhook topic) or with a page, in its
transaction (`runs.Runs.commit_page`), so a page's log lines are there exactly when it is. A
sharded run's log is its own lines and its shards', in the order they were written.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from cartwire.store.engine import Sessions
from cartwire.store.models import RunLogRow, RunRow

LEVELS = ("debug", "info", "warning", "error")  # least to most severe


@dataclass(frozen=True)
class LogLine:
    id: int  # in the order lines were written: where a page of them ends
    at: datetime
    level: str
    message: str


class RunLogs:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def add(self, run_id: int, level: str, message: str) -> None:
        with self._sessions.write() as session:
            keep(session, run_id, [(level, message)], datetime.now(UTC))

    def of(self, run_id: int) -> list[LogLine]:
        with self._sessions.read() as session:
            rows = session.scalars(select(RunLogRow).where(_of_run(run_id)).order_by(RunLogRow.id))
            return [_line(r) for r in rows]

    def tail(
        self, run_id: int, *, levels: Sequence[str], before: int | None, limit: int
    ) -> tuple[list[LogLine], bool]:
        """The newest `limit` lines of `levels` before line id `before` (from the end when
        None), oldest first; and whether there are older ones."""
        query = select(RunLogRow).where(_of_run(run_id), RunLogRow.level.in_(levels))
        if before is not None:
            query = query.where(RunLogRow.id < before)
        with self._sessions.read() as session:
            rows = list(session.scalars(query.order_by(RunLogRow.id.desc()).limit(limit + 1)))
        return [_line(r) for r in reversed(rows[:limit])], len(rows) > limit


def _of_run(run_id: int) -> ColumnElement[bool]:
    """The lines of the run and of its shards."""
    runs = select(RunRow.id).where((RunRow.id == run_id) | (RunRow.shard_of == run_id))
    return RunLogRow.run_id.in_(runs)


def _line(row: RunLogRow) -> LogLine:
    return LogLine(row.id, row.at, row.level, row.message)


def keep(session: Session, run_id: int, logs: list[tuple[str, str]], now: datetime) -> None:
    """Add (level, message) lines inside the caller's transaction."""
    for level, message in logs:
        session.add(RunLogRow(run_id=run_id, at=now, level=level, message=message))
