"""Fixtures for the store tests: a private data directory per test, and real databases.

Every test gets its own CARTWIRE_HOME and no CARTWIRE_DATABASE_URL / CARTWIRE_SECRET_KEY from the
outside. PostgreSQL tests create a throwaway `cartwire_test_<random>` database on the local server
(CARTWIRE_TEST_POSTGRES_ADMIN_URL, default postgres@127.0.0.1:5432) and drop it afterwards; they
are skipped, with the reason shown, when no server answers.
"""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from cartwire.store import Store
from cartwire.store.engine import DATABASE_URL_ENV
from cartwire.store.secrets import SECRET_KEY_ENV

ADMIN_URL_ENV = "CARTWIRE_TEST_POSTGRES_ADMIN_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data directory, so no test reads or writes the user's ~/.cartwire."""
    path = tmp_path / "home"
    monkeypatch.setenv("CARTWIRE_HOME", str(path))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    return path


def _admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL for a fresh PostgreSQL database, dropped after the test."""
    yield from fresh_database()


def fresh_database() -> Iterator[str]:
    """A fresh PostgreSQL database's URL, dropped when the generator is closed (skips the test
    when there is no PostgreSQL)."""
    name = f"cartwire_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(_admin_url(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {_admin_url()}: {exc}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(_admin_url()).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, home: Path) -> str:
    """The database URL for each backend: SQLite in the data directory, or PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite:///{home / 'cartwire.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()
