"""Stored instances: one connection to a platform account each, its secrets encrypted.

Apart from tokens because an instance outlives every token obtained for it, and because its
secrets change only here: replacing or removing an instance is where stale tokens are dropped.
Every method is its own short transaction (several cartwire processes share the database);
secrets are encrypted before a transaction begins and decrypted after it ends.
"""

import json
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.errors import (
    DecryptError,
    InstanceExists,
    InstanceNotFound,
    StoreError,
    database_errors,
)
from cartwire.store.models import InstanceRow, TokenRow
from cartwire.store.records import InstanceRecord, validate_instance
from cartwire.store.secrets import Keyring

SECRETS_COLUMN = "instances.secrets_enc"


class Instances:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    @database_errors
    def add(self, record: InstanceRecord) -> InstanceRecord:
        validate_instance(record)
        now = datetime.now(UTC)
        with self._encryption.writing() as (session, keyring):
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

    @database_errors
    def names(self) -> list[str]:
        """Names only, in order: works even when the secrets cannot be decrypted."""
        with self._sessions.read() as session:
            return list(session.scalars(select(InstanceRow.name).order_by(InstanceRow.name)))

    @database_errors
    def get(self, name: str) -> InstanceRecord:
        with self._sessions.read() as session:
            row = session.scalars(select(InstanceRow).where(InstanceRow.name == name)).first()
        if row is None:
            raise InstanceNotFound(name)
        return _to_record(row, self._secrets_of(row))

    @database_errors
    def all(self) -> list[InstanceRecord]:
        with self._sessions.read() as session:
            rows = session.scalars(select(InstanceRow).order_by(InstanceRow.name)).all()
        return [_to_record(row, self._secrets_of(row)) for row in rows]

    @database_errors
    def replace(self, record: InstanceRecord) -> InstanceRecord:
        """Overwrite the instance with this name, keeping its creation time.

        Cached tokens are dropped when the credentials (connector, auth method, settings or
        secrets) change: a token obtained with old credentials must not outlive them.
        """
        validate_instance(record)
        with self._encryption.writing() as (session, keyring):
            row = session.scalars(
                select(InstanceRow).where(InstanceRow.name == record.name)
            ).first()
            if row is None:
                raise InstanceNotFound(record.name)
            changed = _credentials_changed(row, record, keyring)
            _copy_fields(record, row)
            row.secrets_enc = keyring.encrypt(_dump(record.secrets))
            row.updated_at = datetime.now(UTC)
            session.flush()  # instances before tokens, the order every writer locks them in
            if changed:
                session.execute(delete(TokenRow).where(TokenRow.instance_id == row.id))
            return _to_record(row, dict(record.secrets))

    @database_errors
    def remove(self, name: str) -> None:
        with self._sessions.write() as session:
            instance_id = session.scalar(select(InstanceRow.id).where(InstanceRow.name == name))
            if instance_id is None:
                raise InstanceNotFound(name)
            session.execute(delete(InstanceRow).where(InstanceRow.id == instance_id))
            # The foreign key cascades; deleting explicitly as well does not depend on that.
            session.execute(delete(TokenRow).where(TokenRow.instance_id == instance_id))

    def _secrets_of(self, row: InstanceRow) -> dict[str, str]:
        loaded = json.loads(self._encryption.decrypt(row.secrets_enc, SECRETS_COLUMN, row.name))
        if not isinstance(loaded, dict):  # only if someone wrote the column by hand
            raise StoreError(f"{SECRETS_COLUMN} of instance {row.name!r} is not a JSON object")
        return {str(key): str(value) for key, value in loaded.items()}


def _credentials_changed(row: InstanceRow, record: InstanceRecord, keyring: Keyring) -> bool:
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
