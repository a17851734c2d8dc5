"""The people who sign in to the web UI: a name, a role and an Argon2 hash of their password.

The hash is made and checked by the services (which know the hashing parameters and when to
rehash); the store only keeps it, and never shows it in a record's repr.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from cartwire.store.engine import Sessions
from cartwire.store.errors import NameTaken, database_errors
from cartwire.store.models import UserRow


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    password_hash: str = field(repr=False)
    created_at: datetime
    disabled: bool


def user_record(row: UserRow) -> UserRecord:
    return UserRecord(row.name, row.role, row.password_hash, row.created_at, row.disabled)


class Users:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @database_errors
    def add(self, name: str, role: str, password_hash: str, at: datetime) -> UserRecord:
        """Store a new user, enabled (NameTaken if the name is taken)."""
        row = UserRow(
            name=name, role=role, password_hash=password_hash, created_at=at, disabled=False
        )
        with self._sessions.write() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise NameTaken("a user", name)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent add on another connection won the race
                raise NameTaken("a user", name) from None
            return user_record(row)

    @database_errors
    def get(self, name: str) -> UserRecord | None:
        with self._sessions.read() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return None if row is None else user_record(row)

    @database_errors
    def all(self) -> list[UserRecord]:
        with self._sessions.read() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.name)).all()
            return [user_record(row) for row in rows]

    @database_errors
    def any(self) -> bool:
        """Whether any user is stored (a web UI without users asks for the first one)."""
        with self._sessions.read() as session:
            return session.scalar(select(UserRow.id).limit(1)) is not None

    @database_errors
    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replace the hash (the same password, hashed again with newer parameters)."""
        with self._sessions.write() as session:
            session.execute(
                update(UserRow).where(UserRow.name == name).values(password_hash=password_hash)
            )

    @database_errors
    def remove(self, name: str) -> bool:
        """Delete the user and, with it, every session of theirs; False when there was none."""
        with self._sessions.write() as session:
            found = session.scalar(select(UserRow.id).where(UserRow.name == name))
            if found is None:
                return False
            session.execute(delete(UserRow).where(UserRow.id == found))
            return True
