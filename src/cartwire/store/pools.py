"""Concurrency pools: a size stored per name, shared by the instances that name the pool.

Apart from instances because a pool's size is set on its own (`cartwire pools set`) and is
read without decrypting any instance's secrets.
"""

from datetime import UTC, datetime

from sqlalchemy import delete, select

from cartwire.store.engine import Sessions
from cartwire.store.errors import InvalidRecord, PoolNotFound, database_errors
from cartwire.store.models import InstanceRow, PoolRow
from cartwire.store.records import MAX_LENGTHS, PoolRecord
from cartwire.store.upsert import upsert


class Pools:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @database_errors
    def set(self, name: str, size: int) -> PoolRecord:
        """Create the pool or change its size (one statement, so concurrent setters agree)."""
        if not isinstance(name, str) or not name or len(name) > MAX_LENGTHS["pool"]:
            raise InvalidRecord(f"pool name must be 1 to {MAX_LENGTHS['pool']} characters")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidRecord(f"size of pool {name!r} must be a whole number >= 1")
        now = datetime.now(UTC)
        with self._sessions.write() as session:
            upsert(session, PoolRow, "name", {"name": name, "size": size, "updated_at": now})
        return PoolRecord(name, size, now)

    @database_errors
    def get(self, name: str) -> PoolRecord | None:
        """The stored pool, or None when no size was ever set for this name."""
        with self._sessions.read() as session:
            row = session.get(PoolRow, name)
            return None if row is None else PoolRecord(row.name, row.size, row.updated_at)

    @database_errors
    def all(self) -> list[PoolRecord]:
        with self._sessions.read() as session:
            rows = session.scalars(select(PoolRow).order_by(PoolRow.name)).all()
            return [PoolRecord(row.name, row.size, row.updated_at) for row in rows]

    @database_errors
    def members(self) -> dict[str, list[str]]:
        """Instance names by the pool they name (no secrets decrypted)."""
        with self._sessions.read() as session:
            rows = session.execute(
                select(InstanceRow.pool, InstanceRow.name)
                .where(InstanceRow.pool.is_not(None))
                .order_by(InstanceRow.name)
            ).all()
        members: dict[str, list[str]] = {}
        for pool, name in rows:
            if pool is not None:
                members.setdefault(pool, []).append(name)
        return members

    @database_errors
    def remove(self, name: str) -> None:
        """Forget the pool's size; instances still naming it run at the default size."""
        with self._sessions.write() as session:
            if session.get(PoolRow, name) is None:
                raise PoolNotFound(name)
            session.execute(delete(PoolRow).where(PoolRow.name == name))
