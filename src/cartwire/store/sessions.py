"""Web UI sessions: found by the digest of their token, each with its CSRF token and expiry.

Only the token's digest is kept (`digests`): the token itself lives in the browser's cookie, so
a copy of the database signs no one in. The CSRF token is kept as it is, since each page needs
it back and it is worth nothing without the session's cookie. Rows go with their user (foreign
key, cascade); expired ones are deleted when found and swept as people sign in.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from cartwire.store.digests import digest
from cartwire.store.engine import Sessions
from cartwire.store.errors import database_errors
from cartwire.store.models import SessionRow, UserRow
from cartwire.store.users import UserRecord, user_record


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord  # as stored now: a role changed or the user disabled shows at once
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


class UserSessions:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    @database_errors
    def start(
        self, token: str, user: str, csrf_token: str, at: datetime, expires_at: datetime
    ) -> bool:
        """Store a session of the user; False (and nothing stored) when no such user is left."""
        with self._sessions.write() as session:
            user_id = session.scalar(select(UserRow.id).where(UserRow.name == user))
            if user_id is None:
                return False
            session.add(
                SessionRow(
                    token_hash=digest(token),
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=at,
                    expires_at=expires_at,
                    last_seen_at=at,
                )
            )
            return True

    @database_errors
    def get(self, token: str) -> SessionRecord | None:
        """The session with this token and its user, expired or not; None when there is none."""
        with self._sessions.read() as session:
            found = session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == digest(token))
            ).first()
            if found is None:
                return None
            row, user = found
            return SessionRecord(
                user_record(user), row.csrf_token, row.created_at, row.expires_at, row.last_seen_at
            )

    @database_errors
    def seen(self, token: str, at: datetime) -> None:
        """Note that the session was used at `at`."""
        with self._sessions.write() as session:
            session.execute(
                update(SessionRow)
                .where(SessionRow.token_hash == digest(token))
                .values(last_seen_at=at)
            )

    @database_errors
    def end(self, token: str) -> None:
        """Forget the session (signing out); nothing happens when there is none."""
        with self._sessions.write() as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == digest(token)))

    @database_errors
    def end_expired(self, now: datetime) -> None:
        """Forget every session that expired by `now`."""
        with self._sessions.write() as session:
            session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
