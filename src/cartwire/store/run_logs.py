"""A run's log lines, for `runs show`: what happened to the run, not to each record.

Written on their own (a run's start, resume or webhook topic) or with a page, in its
transaction (`runs.Runs.commit_page`), so a page's log lines are there exactly when it is.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwire.store.engine import Sessions
from cartwire.store.models import RunLogRow


class RunLogs:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def add(self, run_id: int, level: str, message: str) -> None:
        with self._sessions.write() as session:
            keep(session, run_id, [(level, message)], datetime.now(UTC))

    def of(self, run_id: int) -> list[tuple[datetime, str, str]]:
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunLogRow).where(RunLogRow.run_id == run_id).order_by(RunLogRow.id)
            )
            return [(r.at, r.level, r.message) for r in rows]


def keep(session: Session, run_id: int, logs: list[tuple[str, str]], now: datetime) -> None:
    """Add (level, message) lines inside the caller's transaction."""
    for level, message in logs:
        session.add(RunLogRow(run_id=run_id, at=now, level=level, message=message))
