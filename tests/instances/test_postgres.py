"""The same instance life cycle with PostgreSQL as the store (CARTWIRE_DATABASE_URL)."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from cartwire.sandbox.manager import Sandbox
from tests.sandbox_instances import set_args
from tests.support import run_cli

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"cartwire_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_instances_on_postgres(tmp_path: Path, ct: Sandbox, database_url: str) -> None:
    creds = ct.credentials
    env = {"CARTWIRE_DATABASE_URL": database_url, "CT_SECRET": creds["client_secret"]}
    added = run_cli(
        tmp_path,
        "instances",
        "add",
        "commercetools",
        "--name",
        "pg",
        *set_args(ct),
        "--set-env",
        "client_secret=CT_SECRET",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert not list(tmp_path.glob("cartwire.db*")), "SQLite must not be used"
    shown = json.loads(run_cli(tmp_path, "instances", "list", "--json", env=env).stdout)
    assert [i["name"] for i in shown] == ["pg"]
    httpx.delete(f"{ct.url}/_sandbox/counters").raise_for_status()
    for _ in range(5):
        assert run_cli(tmp_path, "api", "pg", "products", env=env).returncode == 0
    assert httpx.get(f"{ct.url}/_sandbox/counters").json()["token_requests"] == 1
    sync_url = database_url.replace("+psycopg", "")
    with psycopg.connect(sync_url) as conn:
        dump = str(conn.execute("SELECT * FROM instances").fetchall())
        dump += str(conn.execute("SELECT * FROM tokens").fetchall())
    assert creds["client_secret"] not in dump
