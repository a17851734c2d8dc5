"""Which database is used and how SQLite is set up for several processes."""

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from cartwire.store import Store, StoreError
from cartwire.store.engine import DATABASE_URL_ENV, display_url, resolve_url


def test_default_is_sqlite_in_the_data_directory(home: Path) -> None:
    with Store.open() as store:
        assert store.engine.dialect.name == "sqlite"
        assert store.engine.url.database == str(home / "cartwire.db")
    assert (home / "cartwire.db").is_file()


def test_url_resolution_order(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    assert resolve_url() == f"sqlite:///{home / 'cartwire.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:////elsewhere/env.db")
    assert resolve_url() == "sqlite:////elsewhere/env.db"
    assert resolve_url("sqlite:////explicit.db") == "sqlite:////explicit.db"


def test_env_url_is_used_by_open(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "other" / "db.sqlite"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{target}")
    with Store.open():
        pass
    assert target.is_file()


def test_env_url_reaches_postgresql(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, pg_url)
    with Store.open() as store:
        assert store.engine.dialect.name == "postgresql"
        assert store.engine.dialect.driver == "psycopg"


def test_sqlite_pragmas_for_sharing_between_processes(home: Path) -> None:
    with Store.open() as store, store.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar_one() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar_one() == 1
        assert pragma("PRAGMA busy_timeout").scalar_one() >= 5000
        assert pragma("PRAGMA synchronous").scalar_one() == 2  # FULL


def test_sqlite_file_is_owner_only(home: Path) -> None:
    with Store.open():
        mode = stat.S_IMODE(os.stat(home / "cartwire.db").st_mode)
    assert mode == 0o600


def test_in_memory_sqlite_works_for_throwaway_use() -> None:
    with Store.open("sqlite://") as store:
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM instances")).scalar_one() == 0
        assert store.instances.all() == []


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql+psycopg://cw:hunter2@db.example:5432/cartwire")
    assert "hunter2" not in shown
    assert "db.example" in shown


def test_unreachable_database_is_a_store_error_without_password() -> None:
    url = "postgresql+psycopg://cw:hunter2@127.0.0.1:1/cartwire"
    with pytest.raises(StoreError) as raised:
        Store.open(url)
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


@pytest.mark.parametrize("url", ["nosuchdb://cw:hunter2@x/y", "not a url hunter2"])
def test_invalid_url_is_a_store_error_without_password(url: str) -> None:
    with pytest.raises(StoreError, match="invalid database URL") as raised:
        Store.open(url)
    assert "hunter2" not in str(raised.value)
