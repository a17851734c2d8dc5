"""Table definitions: the ORM's view of the schema that the Alembic migrations create.

The migrations, not `create_all`, own the schema; `tests/store/test_migrations.py` checks that
these models and the migrated database agree. Encrypted columns hold Fernet tokens (ASCII text)
and are listed in `ENCRYPTED_COLUMNS` so key rotation finds every one of them, including those
that later tables add.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    null,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

# Explicit constraint names make later migrations (and SQLite batch rebuilds) able to refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps that always come back tz-aware in UTC, whatever the backend stores.

    SQLite has no time zone support, so values are stored there as naive UTC; PostgreSQL gets
    `timestamp with time zone`. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes cannot be stored; use a tz-aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Ciphertext(str):
    """A Fernet token as read from the database; its repr hides it from SQLAlchemy's debug logs.

    Ciphertext is useless without the key, but a log is the wrong place to collect it.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<ciphertext>"


class EncryptedText(TypeDecorator[str]):
    """Text holding a Fernet token; comes back as `Ciphertext`."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else Ciphertext(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime}


class InstanceRow(Base):
    __tablename__ = "instances"
    __table_args__ = (
        CheckConstraint(
            "rate_limit_unit IN ('second', 'minute', 'hour', 'day')", name="rate_limit_unit"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    connector: Mapped[str] = mapped_column(String(100))
    auth_method: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict[str, str]] = mapped_column(JSON)
    secrets_enc: Mapped[str] = mapped_column(EncryptedText)
    timezone: Mapped[str] = mapped_column(String(100))
    rate_limit_amount: Mapped[int | None] = mapped_column(Integer)
    rate_limit_unit: Mapped[str | None] = mapped_column(String(10))
    pool: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InstanceCheckRow(Base):
    """The last credential test of an instance: what the instances page shows before anyone
    presses Test again. Goes with its instance."""

    __tablename__ = "instance_checks"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(30))  # operational, failed authentication, …
    checked_at: Mapped[datetime]


class TokenRow(Base):
    __tablename__ = "tokens"

    cache_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    access_token_enc: Mapped[str] = mapped_column(EncryptedText)
    scope: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    obtained_at: Mapped[datetime]


class PoolRow(Base):
    """A named concurrency pool's size; instances name their pool in `instances.pool`.

    No foreign key from instances: an instance may name a pool before its size is set (it then
    runs at the default size, and says so).
    """

    __tablename__ = "pools"
    __table_args__ = (CheckConstraint("size >= 1", name="size_positive"),)

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class FlowBindingRow(Base):
    """A flow's default binding (`cartwire flows enable`): which instances it runs between."""

    __tablename__ = "flow_bindings"

    flow: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    destination: Mapped[str] = mapped_column(String(200), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]


class CursorRow(Base):
    """Where the next incremental run of a (flow, source, destination) starts reading."""

    __tablename__ = "flow_cursors"

    flow: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    destination: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


# Every status a run can have, in the order of its life; the database refuses any other.
RUN_STATUSES = (
    "queued",
    "running",
    "succeeded",
    "partially succeeded",
    "failed",
    "stopped",
    "interrupted",
)


class RunRow(Base):
    """One run of a flow: what it ran, how far it got (checkpoint) and what happened."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in RUN_STATUSES) + ")",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(200), index=True)
    flow_version: Mapped[int] = mapped_column(Integer)
    flow_text: Mapped[str] = mapped_column(Text)  # the flow file as run, so resume runs the same
    trigger: Mapped[str] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200))
    full: Mapped[bool] = mapped_column(Boolean)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(30), index=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    # The same counts by step: the source's read ("read") and each output, by its name.
    step_counts: Mapped[dict[str, dict[str, int]]] = mapped_column(
        JSON, server_default=text("'{}'")
    )
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retry_of: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(
        String(200)
    )  # host:pid:start of the process running it
    stop_requested: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)  # runs are listed by time
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    record_limit: Mapped[int | None] = mapped_column(Integer)  # `--limit N`: read at most N
    # The incremental cursor's position as the run started and as it ended (`store.cursors`).
    cursor_before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    cursor_after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # Runs on workers (`store.runs`, `services.slices`): the slice the run is at (only that
    # slice's message may take it), and the fencing token of whoever holds it now (every
    # takeover raises it; a page committed under an older one is refused).
    slice_no: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lease_token: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Why it failed, by kind (`cartwire.flows.failure_reasons`); None when nothing failed.
    failure_kind: Mapped[str | None] = mapped_column(String(20))
    # A shard's run: the run it is a shard of (whose counts it adds to; `store.runs.shard`).
    shard_of: Mapped[int | None] = mapped_column(Integer, index=True)
    # Processed by workers, in slices: whose lost slices the workers queue again themselves.
    on_workers: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ActiveRunRow(Base):
    """At most one unfinished run per (flow, source, destination): the primary key is the lock."""

    __tablename__ = "active_runs"

    flow: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    destination: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))


class RunLogRow(Base):
    __tablename__ = "run_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


class RunFailureRow(Base):
    """A record that failed: the reason, and the fields of the source record it came from that
    the flow reads (sealed, `cartwire.store.payloads`), for `runs show` and for retry."""

    __tablename__ = "run_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    output: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(500))
    code: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))  # None: kept before kinds were
    record_enc: Mapped[str] = mapped_column(EncryptedText)
    at: Mapped[datetime]


class RunChangeRow(Base):
    """What a dry run would do to one record: create it (`record`, as mapped) or update it
    (`changes`: field, old, new), both sealed in `payload_enc` like failed records, since they
    hold the records' values. Only a run's first few are kept (`runs.KEPT_CHANGES`)."""

    __tablename__ = "run_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    output: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(10))
    payload_enc: Mapped[str] = mapped_column(EncryptedText)


class RunInputRow(Base):
    """The records a run was given (a webhook's payload), so that it can be resumed; dropped
    once the run has ended for good (its failed records stay in `run_failures`)."""

    __tablename__ = "run_inputs"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    records_enc: Mapped[str] = mapped_column(EncryptedText)  # sealed, like failed records


class LookupRow(Base):
    """One entry of a cross-reference table (e.g. a channel → a stock location)."""

    __tablename__ = "lookups"

    table: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(500), primary_key=True)
    target: Mapped[str] = mapped_column(Text)


class ScheduleSlotRow(Base):
    """A schedule slot already started: a restarted scheduler never runs one slot twice."""

    __tablename__ = "schedule_slots"

    flow: Mapped[str] = mapped_column(String(200), primary_key=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer)


class WebhookSecretRow(Base):
    """The shared secret that signs a flow's webhooks (their bodies, or signed URLs)."""

    __tablename__ = "webhook_secrets"

    flow: Mapped[str] = mapped_column(
        ForeignKey("flow_bindings.flow", ondelete="CASCADE"), primary_key=True
    )
    secret_enc: Mapped[str] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime]


# Who may use cartwire's HTTP API and web UI. The roles are fixed (the services say what each
# may do); the CHECK keeps any other value out whoever writes the row.
ROLES = ("admin", "manager", "user", "read-only")
ROLE_CHECK = "role IN ({})".format(", ".join(f"'{role}'" for role in ROLES))


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is kept (`key_hash`), and its first characters to tell keys
    apart in lists. A revoked key stays, with its name, so its use can still be traced."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserRow(Base):
    """A person who signs in to the web UI, with an Argon2 hash of their password."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean)


class SessionRow(Base):
    """A signed-in web UI session, found by the SHA-256 of its token (the token itself is only in
    the browser's cookie); it goes with its user."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


@dataclass(frozen=True)
class EncryptedColumn:
    """Where one encrypted value lives, and how to name its instance in an error message."""

    table: Table
    primary_key: str
    column: str
    instance_name: ColumnElement[Any]

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column}"


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


# Every column holding a Fernet token. Later tables with encrypted columns must be added here,
# or key rotation would leave them under a key that it then drops.
_instances, _tokens = _table("instances"), _table("tokens")
_webhook_secrets = _table("webhook_secrets")
_failures, _inputs = _table("run_failures"), _table("run_inputs")
_changes = _table("run_changes")
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(_instances, "id", "secrets_enc", _instances.c.name),
    EncryptedColumn(
        _tokens,
        "cache_key",
        "access_token_enc",
        select(_instances.c.name).where(_instances.c.id == _tokens.c.instance_id).scalar_subquery(),
    ),
    # Not an instance's value: no instance to name in an error message.
    EncryptedColumn(_webhook_secrets, "flow", "secret_enc", null()),
    EncryptedColumn(_failures, "id", "record_enc", null()),
    EncryptedColumn(_inputs, "run_id", "records_enc", null()),
    EncryptedColumn(_changes, "id", "payload_enc", null()),
)
