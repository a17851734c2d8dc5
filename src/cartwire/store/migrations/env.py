"""Alembic environment: runs on the connection that `cartwire.store.migrate` passes in.

The caller owns the transaction, so every pending revision runs inside it. SQLite gets batch mode
because it cannot ALTER most things in place.
"""

from alembic import context
from sqlalchemy import Connection

from cartwire.store.migrate import VERSION_TABLE
from cartwire.store.models import Base


def run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=sqlite,
        transactional_ddl=True,
        transaction_per_migration=False,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("cartwire migrations run online only, through cartwire.store.migrate")
_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run cartwire migrations through cartwire.store.migrate, not alembic's CLI")
run(_connection)
