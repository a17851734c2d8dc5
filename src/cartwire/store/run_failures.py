"""The records a run failed to write, sealed (`payloads.py`), and why each one failed.

Kept with the page that failed them (`runs.Runs.commit_page`) so a resumed run neither loses
nor doubles one; read back whole by `runs retry`, and grouped by reason for people.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.models import RunFailureRow
from cartwire.store.payloads import seal
from cartwire.store.secrets import Keyring

FAILURE_COLUMN = "run_failures.record_enc"


@dataclass(frozen=True)
class Failure:
    output: str
    key: str | None
    code: str | None
    message: str
    record: dict[str, Any]
    kind: str | None  # `cartwire.flows.failure_reasons`; None for one kept before kinds were


@dataclass(frozen=True)
class FailureGroup:
    """Failures with one reason: how many, and the keys of the first few records."""

    output: str
    code: str | None
    message: str
    count: int
    keys: list[str | None]


class RunFailures:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    def of(self, run_id: int) -> list[Failure]:
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunFailureRow)
                .where(RunFailureRow.run_id == run_id)
                .order_by(RunFailureRow.id)
            ).all()
        return [
            Failure(r.output, r.key, r.code, r.message, self._record(r.record_enc), r.kind)
            for r in rows
        ]

    def kinds(self, run_id: int) -> dict[str, int]:
        """How many of the run's failures are of each kind (counted by the database)."""
        with self._sessions.read() as session:
            rows = session.execute(
                select(RunFailureRow.kind, func.count())
                .where(RunFailureRow.run_id == run_id, RunFailureRow.kind.is_not(None))
                .group_by(RunFailureRow.kind)
            )
            return {str(kind): int(n) for kind, n in rows}

    def _record(self, token: str) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self._encryption.decrypt(token, FAILURE_COLUMN, None))
        return record

    def groups(self, run_id: int, keys: int = 3) -> list[FailureGroup]:
        """The run's failures grouped by identical reason (output, code, message), the most
        frequent first, each with its first few distinct keys: thousands of records failing
        for one reason read as one line. Counted in the database, so a run with 100,000
        failures loads only a few keys of each reason."""
        reason = (RunFailureRow.output, RunFailureRow.code, RunFailureRow.message)
        by_key = (
            select(
                *reason,
                RunFailureRow.key,
                func.min(RunFailureRow.id).label("first"),
                func.count().label("n"),
            )
            .where(RunFailureRow.run_id == run_id)
            .group_by(*reason, RunFailureRow.key)
            .subquery()
        )
        same = (by_key.c.output, by_key.c.code, by_key.c.message)
        ranked = select(
            by_key,
            func.row_number().over(partition_by=same, order_by=by_key.c.first).label("rank"),
            func.sum(by_key.c.n).over(partition_by=same).label("total"),
        ).subquery()
        first = select(ranked).where(ranked.c.rank <= keys)
        groups: dict[tuple[str, str | None, str], FailureGroup] = {}
        with self._sessions.read() as session:
            for row in session.execute(first.order_by(ranked.c.total.desc(), ranked.c.first)):
                found = groups.setdefault(
                    (row.output, row.code, row.message),
                    FailureGroup(row.output, row.code, row.message, int(row.total), []),
                )
                found.keys.append(row.key)
        return list(groups.values())


def keep(
    session: Session, keyring: Keyring, run_id: int, failures: list[Failure], now: datetime
) -> None:
    """Add failed records, sealed, inside the caller's transaction."""
    for failure in failures:
        session.add(
            RunFailureRow(
                run_id=run_id,
                output=failure.output,
                key=failure.key,
                code=failure.code,
                message=failure.message,
                kind=failure.kind,
                record_enc=seal(keyring, failure.record),
                at=now,
            )
        )
