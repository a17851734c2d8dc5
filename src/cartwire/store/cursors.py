"""Incremental cursors: where a flow's next run between two instances starts reading.

Read on their own (and by a run as it starts and ends, to keep where it moved the cursor from
and to), but only ever advanced by `runs.Runs.commit_page`, in the transaction of the
page that reached that position: a cursor never runs ahead of what the destination accepted.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cartwire.store.engine import Sessions
from cartwire.store.models import CursorRow


class Cursors:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def get(self, flow: str, source: str, destination: str) -> dict[str, Any] | None:
        with self._sessions.read() as session:
            return position(session, (flow, source, destination))


def position(session: Session, key: tuple[str, str, str]) -> dict[str, Any] | None:
    """The (flow, source, destination) cursor's position inside the caller's transaction (a
    run keeps it as it starts and ends); None when no run has saved one."""
    row = session.get(CursorRow, key)
    return dict(row.position) if row else None


def advance(
    session: Session,
    key: tuple[str, str, str],
    position: dict[str, Any],
    now: datetime,
) -> None:
    """Move the (flow, source, destination) cursor to `position` inside the caller's
    transaction."""
    cursor = session.get(CursorRow, key)
    if cursor is None:
        flow, source, destination = key
        cursor = CursorRow(flow=flow, source=source, destination=destination)
        session.add(cursor)
    cursor.position, cursor.updated_at = position, now
