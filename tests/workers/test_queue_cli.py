"""`flows run --queue`, `demo --queue` and `cartwire worker` without a broker: refused before
anything is recorded (or a sandbox started), saying which variable to set."""

from pathlib import Path

import pytest

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.support import run_cli
from tests.workers.conftest import FLOW, seeded

NO_BROKER = {"CARTWIRE_BROKER_URL": "", "CARTWIRE_DATABASE_URL": ""}


def test_without_a_broker_a_run_is_not_queued(
    tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Store.open() as store:
        seeded(tmp_path, Catalogue(seed=1, products=2, customers=1, orders=1), ct, cl, store)
        args = ("--source", CT_INSTANCE, "--destination", CL_INSTANCE, "--queue")
        done = run_cli(tmp_path, "flows", "run", FLOW, *args, env=NO_BROKER)
        assert done.returncode == 2
        assert "CARTWIRE_BROKER_URL" in done.stderr
        assert store.runs.recent() == []


def test_a_worker_without_a_broker_says_what_to_set(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "worker", env=NO_BROKER)
    assert done.returncode == 2
    assert "CARTWIRE_BROKER_URL" in done.stderr


def test_the_demo_without_a_broker_queues_nothing_and_starts_no_sandbox(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "demo", "--queue", env=NO_BROKER)
    assert done.returncode == 2
    assert "CARTWIRE_BROKER_URL" in done.stderr
    assert not (tmp_path / "sandbox.json").exists()
