"""Nothing secret is readable in the database itself: SQLite's files and PostgreSQL's columns."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from cartwire.store import CachedToken, Store
from tests.store.helpers import make_record, secret_for, token_for

NAMES = [f"shop-{number}" for number in range(25)]


def _write_everything(store: Store) -> None:
    now = datetime.now(UTC)
    for name in NAMES:
        store.instances.add(make_record(name))
        token = CachedToken(token_for(name), now + timedelta(hours=1), "scope-a", now)
        store.tokens.save(f"key-{name}", name, token)
    # Replaced secrets must not linger either (SQLite may keep freed pages around).
    store.instances.replace(make_record(NAMES[0], secrets={"client_secret": "REPLACED-9f8e7d"}))


def _sqlite_bytes(home: Path) -> bytes:
    files = [home / name for name in ("cartwire.db", "cartwire.db-wal", "cartwire.db-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def _assert_no_clear_secrets(raw: bytes) -> None:
    for name in NAMES:
        assert secret_for(name).encode() not in raw, name
        assert token_for(name).encode() not in raw, name
    assert b"REPLACED-9f8e7d" not in raw
    assert b"f1d2a9c0e7" not in raw  # not even a fragment of any secret
    assert b"client_secret" not in raw  # nor the secret field names


def test_sqlite_files_hold_no_secret_in_clear(home: Path) -> None:
    store = Store.open()
    _write_everything(store)
    while_open = _sqlite_bytes(home)
    assert (home / "cartwire.db-wal").exists()  # the WAL really was part of what we searched
    store.close()
    after_close = _sqlite_bytes(home)

    for raw in (while_open, after_close):
        # The search works: non-secret settings are stored in clear and are found.
        assert b"client-shop-7" in raw
        assert b"proj-shop-24" in raw
        _assert_no_clear_secrets(raw)


def test_postgresql_columns_hold_no_secret_in_clear(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        _write_everything(store)
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT secrets_enc, i::text FROM instances i").fetchall()
        tokens = connection.execute("SELECT access_token_enc, t::text FROM tokens t").fetchall()
    raw = "\n".join(value for row in [*rows, *tokens] for value in row).encode()
    assert b"client-shop-7" in raw
    assert all(row[0].startswith("gAAAAA") for row in [*rows, *tokens])  # Fernet tokens
    _assert_no_clear_secrets(raw)
