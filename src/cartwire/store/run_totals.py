"""Totals over every run in the store, for `/metrics`: runs by status, records by outcome.

Records are summed in Python over the `counts` column alone: JSON arithmetic differs between
SQLite and PostgreSQL, and one small column per run stays cheap for a scrape.
"""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from cartwire.store.engine import Sessions
from cartwire.store.models import RunRow


@dataclass(frozen=True)
class Totals:
    runs_by_status: dict[str, int]
    records_by_outcome: dict[str, int]


class RunTotals:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def totals(self) -> Totals:
        with self._sessions.read() as session:
            statuses = session.execute(select(RunRow.status, func.count()).group_by(RunRow.status))
            by_status: dict[str, int] = {row[0]: row[1] for row in statuses}
            outcomes: Counter[str] = Counter()
            for counts in session.scalars(select(RunRow.counts)):
                outcomes.update(counts or {})
        return Totals(by_status, dict(outcomes))
