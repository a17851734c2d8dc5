"""Bringing a database to the current schema, every time a store is opened.

Alembic is driven from code, not from an alembic.ini: the script location is a package resource,
so it works from an installed wheel, and the caller's connection is handed to `env.py`. All
pending migrations run in one transaction (SQLite and PostgreSQL both have transactional DDL), so
a crash mid-upgrade leaves the old schema, and concurrent openers queue on a lock instead of
racing: SQLite's write lock (BEGIN IMMEDIATE) or a PostgreSQL advisory lock.

To add a revision later: write `migrations/versions/vNNNN_<slug>.py` by hand (copy the initial
one), or generate a draft with `new_revision("add flows")` and review it.
"""

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from cartwire.store.engine import WRITE_OPTION, create_store_engine, is_sqlite

SCRIPT_LOCATION = "cartwire.store:migrations"
# Our own version table, so cartwire can share a PostgreSQL database with other Alembic users.
VERSION_TABLE = "cartwire_schema_version"
_PG_LOCK_ID = 0x63617274776972  # "cartwir": serialises concurrent upgrades on PostgreSQL


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate to head in one transaction; a no-op when already there."""
    with engine.execution_options(**{WRITE_OPTION: True}).connect() as connection:
        if is_sqlite(connection):
            _upgrade_sqlite(connection)
        else:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID}
                    )
                command.upgrade(alembic_config(connection), "head")


def _upgrade_sqlite(connection: Connection) -> None:
    """Run with foreign keys off, as SQLite requires for table rebuilds (batch migrations).

    With them on, the DROP TABLE of a rebuild would cascade-delete the rows referring to it. The
    pragma only takes effect outside a transaction, so it is set on the raw connection first, and
    `foreign_key_check` verifies the result before commit.
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        with connection.begin():
            command.upgrade(alembic_config(connection), "head")
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"migration left dangling foreign keys: {problems[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def new_revision(message: str) -> list[Path]:
    """Draft a revision by comparing the models with a scratch database at head (for developers)."""
    script = ScriptDirectory.from_config(alembic_config())
    heads = [int(rev) for rev in script.get_heads()]
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_store_engine(f"sqlite:///{scratch}/draft.db")
        try:
            upgrade(engine)
            with engine.connect() as connection:
                scripts = command.revision(
                    alembic_config(connection),
                    message,
                    autogenerate=True,
                    rev_id=f"{max(heads, default=0) + 1:04d}",
                )
        finally:
            engine.dispose()
    produced = scripts if isinstance(scripts, list) else [scripts]
    return [Path(s.path) for s in produced if s is not None]
