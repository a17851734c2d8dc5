"""Each instance's last credential test (its status and when), so a list of instances can say
which work without fetching a token per instance each time it is shown."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from cartwire.store.engine import Sessions
from cartwire.store.errors import InstanceNotFound
from cartwire.store.models import InstanceCheckRow, InstanceRow
from cartwire.store.upsert import upsert


@dataclass(frozen=True)
class Check:
    status: str
    checked_at: datetime


class InstanceChecks:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def record(self, name: str, status: str) -> Check:
        """Keep `status` as the instance's last test, now."""
        now = datetime.now(UTC)
        with self._sessions.write() as session:
            instance_id = session.scalar(select(InstanceRow.id).where(InstanceRow.name == name))
            if instance_id is None:
                raise InstanceNotFound(name)
            values = {"instance_id": instance_id, "status": status, "checked_at": now}
            upsert(session, InstanceCheckRow, "instance_id", values)
        return Check(status, now)

    def get(self, name: str) -> Check | None:
        with self._sessions.read() as session:
            row = session.execute(
                select(InstanceCheckRow.status, InstanceCheckRow.checked_at)
                .join(InstanceRow, InstanceCheckRow.instance_id == InstanceRow.id)
                .where(InstanceRow.name == name)
            ).first()
            return None if row is None else Check(row.status, row.checked_at)

    def latest(self) -> dict[str, Check]:
        """The last test of every instance tested since it was saved, by instance name."""
        with self._sessions.read() as session:
            rows = session.execute(
                select(InstanceRow.name, InstanceCheckRow.status, InstanceCheckRow.checked_at).join(
                    InstanceCheckRow, InstanceCheckRow.instance_id == InstanceRow.id
                )
            )
            return {name: Check(status, at) for name, status, at in rows}
