"""Runs looked back on: listed by what they ran and when, counted by status, and the latest of
each flow, for the HTTP API and the web UI.

Apart from `runs`, which changes runs as they live, because nothing here writes. Every filter is
SQL, so a page of a long history reads that page (and one count), not the history.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select

from cartwire.store.engine import Sessions
from cartwire.store.models import RunRow
from cartwire.store.runs import COUNTS, FINISHED, Run, run_of

MOVED = ("created", "updated", "deleted")  # the outcomes that changed the destination
FAILING = ("failed", "partially succeeded")


@dataclass(frozen=True)
class RunQuery:
    """Which runs: each field that is set must match (`instance` the source or the
    destination); `since` is inclusive, `until` exclusive, both of when the run was created."""

    flow: str | None = None
    instance: str | None = None
    status: str | None = None
    trigger: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.flow is not None:
            conditions.append(RunRow.flow == self.flow)
        if self.instance is not None:
            conditions.append(
                or_(RunRow.source == self.instance, RunRow.destination == self.instance)
            )
        if self.status is not None:
            conditions.append(RunRow.status == self.status)
        if self.trigger is not None:
            conditions.append(RunRow.trigger == self.trigger)
        if self.since is not None:
            conditions.append(RunRow.created_at >= self.since)
        if self.until is not None:
            conditions.append(RunRow.created_at < self.until)
        return conditions


NEWEST_FIRST = (RunRow.created_at.desc(), RunRow.id.desc())


class RunHistory:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def find(self, query: RunQuery, limit: int, offset: int = 0) -> tuple[list[Run], int]:
        """The runs `query` matches, newest first, from `offset` on, at most `limit`; and how
        many it matches in all."""
        where = query.where()
        with self._sessions.read() as session:
            total = session.scalar(select(func.count()).select_from(RunRow).where(*where)) or 0
            rows = session.scalars(
                select(RunRow).where(*where).order_by(*NEWEST_FIRST).limit(limit).offset(offset)
            )
            return [run_of(row) for row in rows], total

    def by_status(self, since: datetime | None = None) -> dict[str, int]:
        """How many runs (created since `since`; None: all of them) have each status (only
        those that some have)."""
        query = select(RunRow.status, func.count()).group_by(RunRow.status)
        if since is not None:
            query = query.where(RunRow.created_at >= since)
        with self._sessions.read() as session:
            return dict(session.execute(query).all())

    def records_moved(self, since: datetime) -> int:
        """Records created, updated or deleted in a destination by the runs created since
        `since`; a dry run wrote nothing, so it moved none."""
        return sum(self._sums(MOVED, RunRow.created_at >= since, RunRow.dry_run == false()))

    def by_outcome(self) -> dict[str, int]:
        """The records of every run in the store, read and by outcome (`runs.COUNTS`)."""
        return dict(zip(COUNTS, self._sums(COUNTS), strict=True))

    def _sums(self, outcomes: Sequence[str], *where: ColumnElement[bool]) -> list[int]:
        """Each outcome summed over the runs `where` matches, by the database: SQLAlchemy's
        JSON paths into `counts` render for SQLite (`JSON_EXTRACT`) and PostgreSQL (`->>`)
        alike, so no run row is loaded however long the history."""
        sums = [func.sum(RunRow.counts[name].as_integer()) for name in outcomes]
        with self._sessions.read() as session:
            totals = session.execute(select(*sums).where(*where)).one()
        return [int(n or 0) for n in totals]

    def failing_flows(self) -> list[str]:
        """The flows whose last run to finish (not a dry run: it wrote nothing) failed or
        partially succeeded, by name."""
        latest = (
            select(
                RunRow.flow,
                RunRow.status,
                func.row_number()
                .over(partition_by=RunRow.flow, order_by=(RunRow.ended_at.desc(), RunRow.id.desc()))
                .label("nth"),
            )
            .where(RunRow.status.in_(FINISHED), RunRow.dry_run == false())
            .subquery()
        )
        with self._sessions.read() as session:
            return list(
                session.scalars(
                    select(latest.c.flow)
                    .where(latest.c.nth == 1, latest.c.status.in_(FAILING))
                    .order_by(latest.c.flow)
                )
            )

    def latest(self, flows: Sequence[str], per_flow: int) -> dict[str, list[Run]]:
        """The newest `per_flow` runs of each of `flows`, newest first (a flow never run: [])."""
        ranked = (
            select(
                RunRow.id,
                func.row_number()
                .over(partition_by=RunRow.flow, order_by=NEWEST_FIRST)
                .label("nth"),
            )
            .where(RunRow.flow.in_(flows))
            .subquery()
        )
        found: dict[str, list[Run]] = {flow: [] for flow in flows}
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunRow)
                .join(ranked, RunRow.id == ranked.c.id)
                .where(ranked.c.nth <= per_flow)
                .order_by(*NEWEST_FIRST)
            )
            for row in rows:
                found[row.flow].append(run_of(row))
        return found
