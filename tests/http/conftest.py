"""Opened instances of the sandboxes, each test in its own cartwire home, and the local Redis
the tests of limits shared by processes keep their windows and leases in."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from cartwire.instances import Settings
from cartwire.resources import Platform
from cartwire.sandbox.manager import Sandbox
from cartwire.services import clients
from cartwire.store import Store
from tests.platforms.commercelayer import conftest as commercelayer
from tests.sandbox_instances import add_instance

Opener = Callable[..., Platform]
REDIS = "redis://127.0.0.1:6379/15"  # a database of its own, apart from the brokers' 0

# The Commerce Layer pacing tests read and write the sandbox as the resource tests do, so they take
# the same fixtures (a conftest's fixtures are only seen below its own folder).
admin = commercelayer.admin
platform = commercelayer.platform


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Store.open() as opened:
        yield opened


@pytest.fixture
def open_platform(store: Store) -> Iterator[Opener]:
    """`open_platform(sandbox, name="x", pool=…)`: save an instance of the sandbox and open it."""
    opened: list[Platform] = []

    def open_(sandbox: Sandbox, name: str | None = None, **settings: object) -> Platform:
        name = name or sandbox.platform
        if name not in store.instances.names():
            add_instance(store, sandbox, name, Settings(**settings))  # type: ignore[arg-type]
        platform = clients.open_platform(store, name)
        opened.append(platform)
        return platform

    yield open_
    for platform in opened:
        platform.close()


@pytest.fixture
def redis_server() -> redis.Redis:
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"no Redis at {REDIS}: start it with scripts/services")
    return client
