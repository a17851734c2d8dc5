"""Which database to use, and how to connect to it so several processes can share it safely.

SQLite is the default because cartwire is a CLI first: one file in the data directory, nothing to
run. Several `cartwire` processes may use that file at once, hence WAL (readers never block the
writer), a busy timeout (writers queue instead of failing) and `BEGIN IMMEDIATE` for write
transactions (a writer takes the lock up front instead of failing with SQLITE_BUSY when it
upgrades a read). Any other SQLAlchemy URL comes from CARTWIRE_DATABASE_URL.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from cartwire.home import data_dir

DATABASE_URL_ENV = "CARTWIRE_DATABASE_URL"
DB_FILE_NAME = "cartwire.db"
BUSY_TIMEOUT_SECONDS = 30.0
# Execution option marking connections that will write, so SQLite begins them IMMEDIATE.
WRITE_OPTION = "cartwire_write"


def default_url() -> str:
    return URL.create("sqlite", database=str(data_dir() / DB_FILE_NAME)).render_as_string()


def resolve_url(url: str | None = None) -> str:
    """An explicit URL wins, then CARTWIRE_DATABASE_URL, then SQLite in the data directory."""
    return url or os.environ.get(DATABASE_URL_ENV) or default_url()


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and status output."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # URI filenames: let SQLite handle them
        return None
    return Path(database).expanduser()


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database owner-only before SQLite does, since it will hold (encrypted) secrets.

    SQLite gives its -wal and -shm files the permissions of the main file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_store_engine(url: str) -> Engine:
    """An engine configured for cartwire's access pattern on this URL's backend.

    `hide_parameters` keeps bound values (encrypted tokens, settings) out of exception messages
    and SQL logs.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_driver_name() == "psycopg":
            options["connect_args"] = {"connect_timeout": 10}
        return create_engine(parsed, pool_pre_ping=True, **options)

    file = _sqlite_file(parsed)
    if file is None:
        # A private in-memory database only exists on its one connection.
        options["poolclass"] = StaticPool
        options["connect_args"] = {"check_same_thread": False}
    else:
        _prepare_sqlite_file(file)
        options["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS}
    engine = create_engine(parsed, **options)
    _configure_sqlite(engine, wal=file is not None)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    busy_ms = int(BUSY_TIMEOUT_SECONDS * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module, which skips it for SELECT and DDL; we emit our
        # own in `_on_begin` so reads are consistent and migrations are one transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            # FULL (the default) makes a commit durable before we touch the keyring file
            # afterwards; key rotation depends on that ordering surviving a power cut.
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


class Sessions:
    """Short transactions, read or write, so no CLI process holds a lock longer than it must."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(bind=self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed when the block ends without an exception."""
        with self._write() as session, session.begin():
            yield session
