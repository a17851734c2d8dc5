"""Several cartwire processes on one database at the same time, as consecutive CLI calls do."""

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cartwire.store import CachedToken, Store
from cartwire.store.engine import DATABASE_URL_ENV
from cartwire.store.secrets import Keyring
from tests.store.helpers import make_record, secret_for, start_worker, token_for


def _finish(process_output: tuple[str, str], returncode: int) -> list[dict[str, object]]:
    out, err = process_output
    assert returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _event(worker: subprocess.Popen[str]) -> object:
    """The next JSON line the worker prints."""
    assert worker.stdout is not None
    line = worker.stdout.readline()
    assert line, f"worker ended early: {worker.communicate()[1]}"
    return json.loads(line)


def _loop_token(store: Store) -> str:
    """The token the token-loop worker saved last."""
    token = store.tokens.load("loop-shop")
    assert token is not None
    return token.access_token


def test_two_processes_write_and_read_one_sqlite_file_at_once(home: Path) -> None:
    with Store.open():
        pass  # create the schema so the workers only race on data
    workers = [start_worker("add", prefix, "40") for prefix in ("left", "right")]
    results = [_finish(worker.communicate(timeout=120), worker.returncode) for worker in workers]
    assert results == [[{"added": 40}], [{"added": 40}]]

    with Store.open() as store:
        records = store.instances.all()
        assert len(records) == 80
        for record in records:
            assert record.secrets == {"client_secret": secret_for(record.name)}
            token = store.tokens.load(f"key-{record.name}")
            assert token is not None
            assert token.access_token == token_for(record.name)


def test_processes_racing_to_create_a_fresh_home_agree_on_schema_and_key(
    home: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    names = [f"racer-{number}" for number in range(4)]
    workers = [start_worker("race-open", name, str(go)) for name in names]
    for name, worker in zip(names, workers, strict=True):
        assert _event(worker) == {"waiting": name}
    go.touch()
    for name, worker in zip(names, workers, strict=True):
        assert _finish(worker.communicate(timeout=120), worker.returncode) == [{"opened": name}]

    assert len(Keyring.read_file(home / "secret.key").keys) == 1
    with Store.open() as store:
        assert [record.name for record in store.instances.all()] == names
        for name in names:
            assert store.instances.get(name).secrets == {"client_secret": secret_for(name)}


def test_a_long_running_writer_survives_rotations_by_another_process(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer opened its store (and keyring) before the rotations; every value it writes
    must still be under a key that the key file holds, or the next rotation would fail. Each
    rotation waits until the writer has saved a token after the one before, seen in the store."""
    monkeypatch.setenv(DATABASE_URL_ENV, db_url)
    stop = tmp_path / "stop"
    with Store.open() as store:
        store.instances.add(make_record("shop"))
        now = datetime.now(UTC)
        store.tokens.save("warmup", "shop", CachedToken("t", now + timedelta(hours=1), None, now))
        store.instances.all()
        writer = start_worker("token-loop", "shop", str(stop))
        assert _event(writer) == {"looping": "shop"}
        for _ in range(6):
            before = _loop_token(store)
            while _loop_token(store) == before:
                time.sleep(0.001)  # until the writer saves again, with the keyring it holds
            store.encryption.rotate()
        before = _loop_token(store)
        while _loop_token(store) == before:
            time.sleep(0.001)  # and once more after the last rotation
        stop.touch()
        (summary,) = _finish(writer.communicate(timeout=120), writer.returncode)
        assert isinstance(summary, dict)
        saved = summary["saved"]
        assert isinstance(saved, int)
        assert saved > 7  # the first, one before each rotation and one after the last

        assert store.encryption.rotate() == 3  # one instance, "warmup" and the loop's token
        token = store.tokens.load("loop-shop")
        assert token is not None
        assert token.access_token == summary["last"]
