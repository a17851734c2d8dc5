"""Failed records and webhook payloads sealed: encrypted at rest, secret-named fields dropped.

`run_failures.record` and `run_inputs.records` held whole source records in clear (a
customer's password hash among them). They become `record_enc` and
`records_enc`, Fernet tokens under the store's keyring like instance secrets (and rotated with
them, `ENCRYPTED_COLUMNS`); existing rows are converted here, without their secret-named
fields (`cartwire.store.payloads`). On SQLite `secure_delete` is on while the tables are
rebuilt, so the pages that held the clear text are zeroed, not just freed.

The keyring is loaded as the store loads it: the key file (created if nothing is encrypted
yet) or CARTWIRE_SECRET_KEY. No lock on the key file is needed: this runs holding the
database's write lock, so a rotation re-encrypts these rows after they commit, under a keyring
that still holds the key they were sealed with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cartwire.store.payloads import seal
from cartwire.store.secrets import KeyFileMissing, Keyring

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, primary key, clear column, sealed column)
SEALED = (
    ("run_failures", "id", "record", "record_enc"),
    ("run_inputs", "run_id", "records", "records_enc"),
)
# The tables holding encrypted values before this revision (a lost key file must not be
# papered over with a new key while they hold any).
ENCRYPTED_BEFORE = ("instances", "tokens", "webhook_secrets")


def _keyring(connection: sa.Connection) -> Keyring:
    try:
        return Keyring.load(create=False)
    except KeyFileMissing:
        for table in ENCRYPTED_BEFORE:
            if connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first():  # noqa: S608
                raise
        return Keyring.load(create=True)


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA secure_delete = ON")
    keyring: Keyring | None = None
    for table, key, clear, sealed in SEALED:
        op.add_column(table, sa.Column(sealed, sa.Text(), nullable=True))
        rows = connection.execute(sa.text(f"SELECT {key}, {clear} FROM {table}")).all()  # noqa: S608
        if rows:
            keyring = keyring or _keyring(connection)
            update = sa.text(f"UPDATE {table} SET {sealed} = :value WHERE {key} = :key")  # noqa: S608
            connection.execute(
                update,
                [{"key": row[0], "value": seal(keyring, _loaded(row[1]))} for row in rows],
            )
        with op.batch_alter_table(table) as batch:
            batch.drop_column(clear)
            batch.alter_column(sealed, existing_type=sa.Text(), nullable=False)
    if sqlite:
        op.execute("PRAGMA secure_delete = OFF")


def _loaded(value: object) -> object:
    """A JSON column's value as the driver returns it (text on SQLite, decoded elsewhere)."""
    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    """Back to clear columns, decrypted (the secret-named fields stay dropped)."""
    connection = op.get_bind()
    keyring: Keyring | None = None
    for table, key, clear, sealed in SEALED:
        op.add_column(table, sa.Column(clear, sa.JSON(), nullable=True))
        rows = connection.execute(sa.text(f"SELECT {key}, {sealed} FROM {table}")).all()  # noqa: S608
        if rows:
            keyring = keyring or Keyring.load(create=False)
            column = f"{table}.{sealed}"
            value = ":value" if connection.dialect.name == "sqlite" else "CAST(:value AS JSON)"
            update = sa.text(f"UPDATE {table} SET {clear} = {value} WHERE {key} = :key")  # noqa: S608
            connection.execute(
                update,
                [
                    {"key": row[0], "value": keyring.decrypt(row[1], column=column, instance=None)}
                    for row in rows
                ],
            )
        with op.batch_alter_table(table) as batch:
            batch.drop_column(sealed)
            batch.alter_column(clear, existing_type=sa.JSON(), nullable=False)
