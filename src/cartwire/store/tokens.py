"""The token cache: access tokens by cache key, encrypted, so processes share one token.

Apart from instances because tokens come and go many times in an instance's life, written by
whichever process obtained one; a token belongs to an instance and goes with it.

`exclusive(cache_key)` is the lock that makes one process of many fetch a missing token while
the others wait and then read the one it saved: on PostgreSQL a session-level advisory lock on
the key (every worker of a deployment shares the store, on any machine). SQLite's store is one
machine's, so there it is a no-op and each process's own single-flight is what remains.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, select, text

from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.errors import InstanceNotFound, InvalidRecord, database_errors
from cartwire.store.models import InstanceRow, TokenRow
from cartwire.store.records import MAX_CACHE_KEY_LENGTH, CachedToken, aware_utc
from cartwire.store.upsert import upsert

TOKEN_COLUMN = "tokens.access_token_enc"  # noqa: S105 (a column name, not a secret)


class Tokens:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    @database_errors
    def load(self, cache_key: str) -> CachedToken | None:
        """The cached token, expired or not: the caller decides (see `CachedToken.is_expired`)."""
        with self._sessions.read() as session:
            found = session.execute(
                select(TokenRow, InstanceRow.name)
                .join(InstanceRow, InstanceRow.id == TokenRow.instance_id)
                .where(TokenRow.cache_key == cache_key)
            ).first()
        if found is None:
            return None
        row, instance = found
        return CachedToken(
            access_token=self._encryption.decrypt(row.access_token_enc, TOKEN_COLUMN, instance),
            expires_at=row.expires_at,
            scope=row.scope,
            obtained_at=row.obtained_at,
        )

    @database_errors
    def save(self, cache_key: str, instance: str, token: CachedToken) -> None:
        """Insert or overwrite by cache key in one statement, so concurrent savers cannot
        collide."""
        if not cache_key or len(cache_key) > MAX_CACHE_KEY_LENGTH:
            raise InvalidRecord(f"cache_key must be 1 to {MAX_CACHE_KEY_LENGTH} characters")
        if not isinstance(token.access_token, str):
            raise InvalidRecord("access_token must be a string")
        values: dict[str, Any] = {
            "cache_key": cache_key,
            "scope": token.scope,
            "expires_at": aware_utc(token.expires_at, "expires_at"),
            "obtained_at": aware_utc(token.obtained_at, "obtained_at"),
        }
        with self._encryption.writing() as (session, keyring):
            instance_id = session.scalar(select(InstanceRow.id).where(InstanceRow.name == instance))
            if instance_id is None:
                raise InstanceNotFound(instance)
            values["instance_id"] = instance_id
            values["access_token_enc"] = keyring.encrypt(token.access_token)
            upsert(session, TokenRow, "cache_key", values)

    @contextmanager
    def exclusive(self, cache_key: str) -> Iterator[None]:
        """Held by one process at a time per cache key (module docstring). The lock lives on a
        connection of its own, so the token's load and save inside it are ordinary transactions
        other processes see at once; a process that dies releases it with its connection."""
        engine = self._sessions.engine
        if engine.dialect.name != "postgresql":
            yield
            return
        key = {"key": f"cartwire-token:{cache_key}"}
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), key)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), key
                )
                connection.commit()

    @database_errors
    def delete(self, instance: str) -> None:
        """Forget the instance's cached tokens (no-op for an unknown instance)."""
        with self._sessions.write() as session:
            session.execute(
                delete(TokenRow).where(
                    TokenRow.instance_id.in_(
                        select(InstanceRow.id).where(InstanceRow.name == instance)
                    )
                )
            )
