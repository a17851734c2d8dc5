"""Failed records and webhook payloads are sealed: encrypted at rest (and rotated with the
instance secrets), never with a secret-named field, and rows from before are converted."""

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from cartwire.store import Store
from cartwire.store import migrate as migrations
from cartwire.store.run_failures import Failure
from cartwire.store.runs import PageProgress, Runs
from tests.store.helpers import make_record

HASH = "$2b$10$Quinn0PasswordHashUQ2l5hd9Xq7"  # a stored password hash, as platforms keep them
VALUE = "quinn.fischer.7@example.com"  # a record value: kept, but only encrypted


def _record(n: int = 0) -> dict[str, object]:
    return {
        "id": f"cust-{n}",
        "email": VALUE,
        "password": HASH,
        "custom": {"fields": {"apiToken": f"tok-{n}-9b1e", "segment": "vip"}},
        "addresses": [{"city": "Quinnville", "client_secret": "cs-5d4c"}],
    }


def _kept(n: int = 0) -> dict[str, object]:
    return {
        "id": f"cust-{n}",
        "email": VALUE,
        "custom": {"fields": {"segment": "vip"}},
        "addresses": [{"city": "Quinnville"}],
    }


def _failed_run(runs: Runs, name: str = "flow") -> int:
    run = runs.start(
        flow=name,
        version=1,
        text="",
        trigger="webhook",
        source="src",
        destination="dst",
        full=False,
        dry_run=False,
        owner="host:1:1",
        inputs=[_record(1), _record(2)],
    )
    failure = Failure("customers", "cust-0", "FORBIDDEN", "refused", _record(), "configuration")
    runs.commit_page(
        run.id, PageProgress(checkpoint=None, counts={"failed": 1}, failures=[failure])
    )
    return run.id


def _sqlite_bytes(home: Path) -> bytes:
    files = [home / name for name in ("cartwire.db", "cartwire.db-wal", "cartwire.db-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def _assert_sealed(raw: bytes) -> None:
    for clear in (HASH, VALUE, "Quinnville", "tok-1-9b1e", "cs-5d4c", '"password"'):
        assert clear.encode() not in raw, clear


def test_failed_records_and_inputs_are_sealed_without_secrets(db_url: str) -> None:
    with Store.open(db_url) as store:
        runs = store.runs
        run_id = _failed_run(runs)
        [failure] = store.run_failures.of(run_id)
        assert failure.record == _kept()
        assert runs.inputs(run_id) == [_kept(1), _kept(2)]
        with store.engine.connect() as connection:
            rows = [
                *connection.execute(text("SELECT * FROM run_failures")),
                *connection.execute(text("SELECT * FROM run_inputs")),
            ]
        _assert_sealed(repr(rows).encode())


def test_the_sqlite_file_holds_no_failed_record_in_clear(home: Path) -> None:
    store = Store.open()
    _failed_run(store.runs)
    while_open = _sqlite_bytes(home)
    store.close()
    for raw in (while_open, _sqlite_bytes(home)):
        assert b"FORBIDDEN" in raw  # the search works: the failure's code is in clear
        _assert_sealed(raw)


def test_rotation_reencrypts_failed_records_and_inputs(store: Store, home: Path) -> None:
    runs = store.runs
    store.instances.add(make_record("alpha"))
    run_id = _failed_run(runs)
    new_key = Fernet.generate_key()

    assert store.encryption.rotate(new_key) == 3  # the instance, the failure, the inputs

    with store.engine.connect() as connection:
        sealed = [
            *connection.execute(text("SELECT record_enc FROM run_failures")).scalars(),
            *connection.execute(text("SELECT records_enc FROM run_inputs")).scalars(),
        ]
    for token in sealed:
        Fernet(new_key).decrypt(token.encode())
    assert store.run_failures.of(run_id)[0].record == _kept()
    assert runs.inputs(run_id) == [_kept(1), _kept(2)]


def test_migration_seals_the_rows_kept_in_clear_before(home: Path) -> None:
    """A database at revision 0006 with clear failed records and inputs, opened by this
    version: they are sealed, secrets dropped, and the file no longer shows them."""
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'cartwire.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0006")
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        connection.execute(
            text(
                "INSERT INTO runs (id, flow, flow_version, flow_text, trigger, source, destination,"
                " full, dry_run, status, counts, retry_of, stop_requested, created_at)"
                " VALUES (1, 'f', 1, '', 'webhook', 's', 'd', 0, 0, 'failed', '{}', NULL, 0, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO run_failures (run_id, output, key, code, message, record, at)"
                " VALUES (1, 'customers', NULL, 'mapping', 'no entry', :record, :now)"
            ),
            {"record": json.dumps(_record()), "now": now},
        )
        connection.execute(
            text("INSERT INTO run_inputs (run_id, records) VALUES (1, :records)"),
            {"records": json.dumps([_record(1), _record(2)])},
        )
    engine.dispose()
    assert HASH.encode() in _sqlite_bytes(home)  # the search works: there it is in clear

    with Store.open(url) as store:
        runs = store.runs
        assert store.run_failures.of(1)[0].record == _kept()
        assert runs.inputs(1) == [_kept(1), _kept(2)]
    _assert_sealed(_sqlite_bytes(home))


def test_downgrade_puts_the_records_back_in_clear_columns(home: Path) -> None:
    with Store.open() as store:
        run_id = _failed_run(store.runs)
        with store.engine.begin() as connection:
            command.downgrade(migrations.alembic_config(connection), "0006")
            [record] = connection.execute(text("SELECT record FROM run_failures")).scalars()
            [inputs] = connection.execute(text("SELECT records FROM run_inputs")).scalars()
        assert json.loads(record) == _kept()
        assert json.loads(inputs) == [_kept(1), _kept(2)]
        migrations.upgrade(store.engine)
        assert store.run_failures.of(run_id)[0].record == _kept()
