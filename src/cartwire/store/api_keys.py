"""API keys for the HTTP API: a name, a role, and the key's digest, never the key itself.

Its own part because a key is found by its digest on every API request, without reading any
user or instance. The key is hashed here, where it is stored and looked up, so no caller can
store one in clear by mistake (`digests`).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cartwire.store.digests import digest
from cartwire.store.engine import Sessions
from cartwire.store.errors import NameTaken, database_errors
from cartwire.store.models import ApiKeyRow

PREFIX_LENGTH = 8  # the key's first characters, kept to tell keys apart in lists


@dataclass(frozen=True)
class ApiKeyRecord:
    name: str
    role: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        row.name, row.role, row.prefix, row.created_at, row.last_used_at, row.revoked_at
    )


class ApiKeys:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @database_errors
    def add(self, name: str, role: str, key: str, at: datetime) -> ApiKeyRecord:
        """Store a new key under `name` (NameTaken if a key, even a revoked one, has it)."""
        row = ApiKeyRow(
            name=name, role=role, key_hash=digest(key), prefix=key[:PREFIX_LENGTH], created_at=at
        )
        with self._sessions.write() as session:
            if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None:
                raise NameTaken("an API key", name)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent add on another connection won the race
                raise NameTaken("an API key", name) from None
            return _record(row)

    @database_errors
    def all(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included, by name."""
        with self._sessions.read() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name)).all()
            return [_record(row) for row in rows]

    @database_errors
    def find(self, key: str) -> ApiKeyRecord | None:
        """The stored key whose digest this key has (revoked or not), or None."""
        with self._sessions.read() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest(key)))
            return None if row is None else _record(row)

    @database_errors
    def used(self, name: str, at: datetime) -> None:
        """Note that the key was used at `at`."""
        with self._sessions.write() as session:
            session.execute(update(ApiKeyRow).where(ApiKeyRow.name == name).values(last_used_at=at))

    @database_errors
    def revoke(self, name: str, at: datetime) -> ApiKeyRecord | None:
        """Revoke the key for good (a key revoked before keeps its first revocation time);
        None when no key has this name."""
        with self._sessions.write() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name))
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = at
            return _record(row)
