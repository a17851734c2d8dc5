"""The `Store`: instances and cached tokens, with their secrets encrypted at rest.

Every method is its own short transaction, because several cartwire processes (consecutive or
concurrent CLI calls, a running engine) share one database. Secrets are encrypted before they
enter a transaction and decrypted after it ends, and only ever exist in clear inside the
returned records.
"""

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from cartwire.store import migrate, rotation
from cartwire.store.engine import Sessions, create_store_engine, display_url, resolve_url
from cartwire.store.errors import (
    DecryptError,
    InstanceExists,
    InstanceNotFound,
    InvalidRecord,
    PoolNotFound,
    StoreError,
)
from cartwire.store.models import (
    ENCRYPTED_COLUMNS,
    FlowBindingRow,
    InstanceRow,
    PoolRow,
    TokenRow,
    WebhookSecretRow,
)
from cartwire.store.records import (
    MAX_CACHE_KEY_LENGTH,
    MAX_LENGTHS,
    CachedToken,
    InstanceRecord,
    PoolRecord,
    aware_utc,
    validate_instance,
)
from cartwire.store.secrets import KeyFileMissing, Keyring

P = ParamSpec("P")
R = TypeVar("R")
SECRETS_COLUMN = "instances.secrets_enc"
TOKEN_COLUMN = "tokens.access_token_enc"  # noqa: S105 (a column name, not a secret)
WEBHOOK_SECRET_COLUMN = "webhook_secrets.secret_enc"  # noqa: S105 (a column name)


def _now() -> datetime:
    return datetime.now(UTC)


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line (parameters are hidden by the engine), for user messages."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _shown(url: str) -> str:
    try:
        return repr(display_url(url))
    except (ArgumentError, ValueError):
        return "(unparseable, not shown as it may hold a password)"


def _database_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Report driver failures (locked, unreachable, ...) as StoreError, which callers handle.

    Only the driver's first line is kept: PostgreSQL's DETAIL lines can quote a whole row.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {_reason(exc)}") from exc

    return wrapper


class Store:
    """Persistence for cartwire: `Store.open()`, then `close()` (or use it as a context manager)."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine that is already migrated; use `Store.open` to get one that is."""
        self._engine = engine
        self._sessions = Sessions(engine)
        self._keyring: Keyring | None = None

    @classmethod
    def open(cls, url: str | None = None) -> "Store":
        """Connect and migrate to the newest schema.

        `url` None means CARTWIRE_DATABASE_URL, or SQLite in the data directory.
        """
        resolved = resolve_url(url)
        try:
            engine = create_store_engine(resolved)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise StoreError(f"invalid database URL {_shown(resolved)}: {exc}") from None
        try:
            migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open the cartwire database at {display_url(resolved)}: {_reason(exc)}"
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return display_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        """For later store modules (flows, runs) that add their own tables."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Instances -----------------------------------------------------------------------------

    @_database_errors
    def add_instance(self, record: InstanceRecord) -> InstanceRecord:
        validate_instance(record)
        now = _now()
        with self.writing() as (session, keyring):
            if (
                session.scalar(select(InstanceRow.id).where(InstanceRow.name == record.name))
                is not None
            ):
                raise InstanceExists(record.name)
            row = InstanceRow(
                name=record.name,
                secrets_enc=keyring.encrypt(_dump(record.secrets)),
                created_at=now,
                updated_at=now,
            )
            _copy_fields(record, row)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent add on another connection won the race
                raise InstanceExists(record.name) from None
            return _to_record(row, dict(record.secrets))

    @_database_errors
    def instance_names(self) -> list[str]:
        """Names only, in order: works even when the secrets cannot be decrypted."""
        with self._sessions.read() as session:
            return list(session.scalars(select(InstanceRow.name).order_by(InstanceRow.name)))

    @_database_errors
    def get_instance(self, name: str) -> InstanceRecord:
        with self._sessions.read() as session:
            row = session.scalars(select(InstanceRow).where(InstanceRow.name == name)).first()
        if row is None:
            raise InstanceNotFound(name)
        return _to_record(row, self._secrets_of(row))

    @_database_errors
    def list_instances(self) -> list[InstanceRecord]:
        with self._sessions.read() as session:
            rows = session.scalars(select(InstanceRow).order_by(InstanceRow.name)).all()
        return [_to_record(row, self._secrets_of(row)) for row in rows]

    @_database_errors
    def replace_instance(self, record: InstanceRecord) -> InstanceRecord:
        """Overwrite the instance with this name, keeping its creation time.

        Cached tokens are dropped when the credentials (connector, auth method, settings or
        secrets) change: a token obtained with old credentials must not outlive them.
        """
        validate_instance(record)
        with self.writing() as (session, keyring):
            row = session.scalars(
                select(InstanceRow).where(InstanceRow.name == record.name)
            ).first()
            if row is None:
                raise InstanceNotFound(record.name)
            changed = self._credentials_changed(row, record, keyring)
            _copy_fields(record, row)
            row.secrets_enc = keyring.encrypt(_dump(record.secrets))
            row.updated_at = _now()
            session.flush()  # instances before tokens, the order every writer locks them in
            if changed:
                session.execute(delete(TokenRow).where(TokenRow.instance_id == row.id))
            return _to_record(row, dict(record.secrets))

    @_database_errors
    def remove_instance(self, name: str) -> None:
        with self._sessions.write() as session:
            instance_id = session.scalar(select(InstanceRow.id).where(InstanceRow.name == name))
            if instance_id is None:
                raise InstanceNotFound(name)
            session.execute(delete(InstanceRow).where(InstanceRow.id == instance_id))
            # The foreign key cascades; deleting explicitly as well does not depend on that.
            session.execute(delete(TokenRow).where(TokenRow.instance_id == instance_id))

    # Concurrency pools ---------------------------------------------------------------------

    @_database_errors
    def set_pool(self, name: str, size: int) -> PoolRecord:
        """Create the pool or change its size (one statement, so concurrent setters agree)."""
        if not isinstance(name, str) or not name or len(name) > MAX_LENGTHS["pool"]:
            raise InvalidRecord(f"pool name must be 1 to {MAX_LENGTHS['pool']} characters")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidRecord(f"size of pool {name!r} must be a whole number >= 1")
        now = _now()
        with self._sessions.write() as session:
            _upsert(session, PoolRow, "name", {"name": name, "size": size, "updated_at": now})
        return PoolRecord(name, size, now)

    @_database_errors
    def get_pool(self, name: str) -> PoolRecord | None:
        """The stored pool, or None when no size was ever set for this name."""
        with self._sessions.read() as session:
            row = session.get(PoolRow, name)
            return None if row is None else PoolRecord(row.name, row.size, row.updated_at)

    @_database_errors
    def list_pools(self) -> list[PoolRecord]:
        with self._sessions.read() as session:
            rows = session.scalars(select(PoolRow).order_by(PoolRow.name)).all()
            return [PoolRecord(row.name, row.size, row.updated_at) for row in rows]

    @_database_errors
    def pool_members(self) -> dict[str, list[str]]:
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

    @_database_errors
    def remove_pool(self, name: str) -> None:
        """Forget the pool's size; instances still naming it run at the default size."""
        with self._sessions.write() as session:
            if session.get(PoolRow, name) is None:
                raise PoolNotFound(name)
            session.execute(delete(PoolRow).where(PoolRow.name == name))

    # Token cache ---------------------------------------------------------------------------

    @_database_errors
    def load_token(self, cache_key: str) -> CachedToken | None:
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
            access_token=self.decrypt(row.access_token_enc, TOKEN_COLUMN, instance),
            expires_at=row.expires_at,
            scope=row.scope,
            obtained_at=row.obtained_at,
        )

    @_database_errors
    def save_token(self, cache_key: str, instance: str, token: CachedToken) -> None:
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
        with self.writing() as (session, keyring):
            instance_id = session.scalar(select(InstanceRow.id).where(InstanceRow.name == instance))
            if instance_id is None:
                raise InstanceNotFound(instance)
            values["instance_id"] = instance_id
            values["access_token_enc"] = keyring.encrypt(token.access_token)
            _upsert_token(session, values)

    @_database_errors
    def delete_tokens(self, instance: str) -> None:
        """Forget the instance's cached tokens (no-op for an unknown instance)."""
        with self._sessions.write() as session:
            session.execute(
                delete(TokenRow).where(
                    TokenRow.instance_id.in_(
                        select(InstanceRow.id).where(InstanceRow.name == instance)
                    )
                )
            )

    # Webhook secrets -----------------------------------------------------------------------

    @_database_errors
    def set_webhook_secret(self, flow: str, secret: str) -> None:
        """Store (or replace) the shared secret of a flow binding's webhooks, encrypted.

        The binding must exist: the secret belongs to it and goes when it is removed.
        """
        if not isinstance(secret, str) or not secret:
            raise InvalidRecord("a webhook secret must be a non-empty string")
        with self.writing() as (session, keyring):
            if session.get(FlowBindingRow, flow) is None:
                raise StoreError(
                    f"flow {flow!r} has no binding; bind it first with `cartwire flows enable "
                    f"{flow} --source NAME --destination NAME`"
                )
            values = {"flow": flow, "secret_enc": keyring.encrypt(secret), "updated_at": _now()}
            _upsert(session, WebhookSecretRow, "flow", values)

    @_database_errors
    def webhook_secret(self, flow: str) -> str | None:
        """The flow binding's webhook secret in clear, or None when none was set."""
        with self._sessions.read() as session:
            row = session.get(WebhookSecretRow, flow)
            token = None if row is None else row.secret_enc
        return None if token is None else self.decrypt(token, WEBHOOK_SECRET_COLUMN, None)

    # Secrets -------------------------------------------------------------------------------

    @_database_errors
    def rotate_secrets(self, new_key: bytes | None = None) -> int:
        """Re-encrypt every stored secret under a new key; returns how many values it rewrote.

        With the key file: `new_key` (or a generated one) becomes the only key, see rotation.py
        for why an interruption loses nothing. With CARTWIRE_SECRET_KEY: the values are
        re-encrypted under `new_key` (or the variable's first key) and the user must then set
        CARTWIRE_SECRET_KEY to that key.
        """
        try:
            keyring = Keyring.load(create=False)
        except KeyFileMissing:
            if self._has_encrypted_values():
                raise
            keyring = Keyring.load(create=True)
        count, self._keyring = rotation.rotate(self._sessions, keyring, new_key)
        return count

    @property
    def keyring(self) -> Keyring:
        """The keyring in use (loaded, or created if nothing is encrypted yet)."""
        return self._load_keyring()

    # Internals -----------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[tuple[Session, Keyring]]:
        """A write transaction plus the keyring to encrypt with, fresh from disk (for every
        writer of an encrypted column, including the run records of `store.runs`).

        The shared keyring lock is held until commit, so a rotation cannot drop the key we
        encrypt with between our encrypt and our commit.
        """
        keyring = self._load_keyring()
        with keyring.lock(exclusive=False):
            if keyring.changed_on_disk():
                keyring = self._keyring = keyring.reload()
            with self._sessions.write() as session:
                yield session, keyring

    def _load_keyring(self) -> Keyring:
        if self._keyring is None:
            try:
                self._keyring = Keyring.load(create=False)
            except KeyFileMissing:
                # Creating a fresh key while values exist would hide a lost key file.
                if self._has_encrypted_values():
                    raise
                self._keyring = Keyring.load(create=True)
        return self._keyring

    def decrypt(self, token: str, column: str, instance: str | None) -> str:
        """An encrypted column's value in clear, with the key file reloaded if another process
        rotated it since."""
        keyring = self._load_keyring()
        try:
            return keyring.decrypt(token, column=column, instance=instance)
        except DecryptError:
            if not keyring.changed_on_disk():
                raise
        # Another process rotated the key file since we read it.
        self._keyring = keyring.reload()
        return self._keyring.decrypt(token, column=column, instance=instance)

    def _secrets_of(self, row: InstanceRow) -> dict[str, str]:
        loaded = json.loads(self.decrypt(row.secrets_enc, SECRETS_COLUMN, row.name))
        if not isinstance(loaded, dict):  # only if someone wrote the column by hand
            raise StoreError(f"{SECRETS_COLUMN} of instance {row.name!r} is not a JSON object")
        return {str(key): str(value) for key, value in loaded.items()}

    def _credentials_changed(
        self, row: InstanceRow, record: InstanceRecord, keyring: Keyring
    ) -> bool:
        if (row.connector, row.auth_method, row.settings) != (
            record.connector,
            record.auth_method,
            record.settings,
        ):
            return True
        try:
            old = keyring.decrypt(row.secrets_enc, column=SECRETS_COLUMN, instance=row.name)
        except DecryptError:
            return True
        return bool(json.loads(old) != record.secrets)

    def _has_encrypted_values(self) -> bool:
        with self._sessions.read() as session:
            return any(
                session.scalar(select(exists().select_from(spec.table)))
                for spec in ENCRYPTED_COLUMNS
            )


def _dump(secrets: dict[str, str]) -> str:
    return json.dumps(secrets, sort_keys=True, separators=(",", ":"))


def _copy_fields(record: InstanceRecord, row: InstanceRow) -> None:
    row.connector = record.connector
    row.auth_method = record.auth_method
    row.settings = dict(record.settings)
    row.timezone = record.timezone
    row.rate_limit_amount = record.rate_limit_amount
    row.rate_limit_unit = record.rate_limit_unit
    row.pool = record.pool


def _to_record(row: InstanceRow, secrets: dict[str, str]) -> InstanceRecord:
    return InstanceRecord(
        name=row.name,
        connector=row.connector,
        auth_method=row.auth_method,
        settings=dict(row.settings),
        secrets=secrets,
        timezone=row.timezone,
        rate_limit_amount=row.rate_limit_amount,
        rate_limit_unit=row.rate_limit_unit,
        pool=row.pool,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _upsert_token(session: Session, values: dict[str, Any]) -> None:
    """Insert or overwrite by cache key in one statement, so concurrent savers cannot collide."""
    _upsert(session, TokenRow, "cache_key", values)


def _upsert(
    session: Session,
    model: type[TokenRow] | type[PoolRow] | type[WebhookSecretRow],
    key: str,
    values: dict[str, Any],
) -> None:
    """Insert a row or overwrite the one with the same primary key `key`, in one statement."""
    changes = {column: value for column, value in values.items() if column != key}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        lite = sqlite.insert(model).values(values)
        session.execute(lite.on_conflict_do_update(index_elements=[key], set_=changes))
    elif dialect == "postgresql":
        pg = postgresql.insert(model).values(values)
        session.execute(pg.on_conflict_do_update(index_elements=[key], set_=changes))
    else:
        existing = session.get(model, values[key], with_for_update=True)
        if existing is None:
            session.add(model(**values))
        else:
            for column, value in changes.items():
                setattr(existing, column, value)
