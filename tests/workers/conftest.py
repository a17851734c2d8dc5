"""A deployment on workers for the tests: its own PostgreSQL database and queue on the local
Redis, a seeded pair of sandboxes with the demo's instances, and `cartwire worker` processes."""

import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import yaml
from kombu import Connection, Exchange, Queue
from kombu.exceptions import KombuError

from cartwire.demo import connect_sandboxes
from cartwire.flows.catalog import find
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from tests.flows.triggers_support import Process
from tests.flows.world import World
from tests.store.conftest import fresh_database

# The local Redis; CARTWIRE_TEST_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// runs these tests
# on RabbitMQ instead.
BROKER_URL_ENV = "CARTWIRE_TEST_BROKER_URL"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
FLOW = "ct-products-to-cl-skus"
PAGE = 20  # products a page of the flow's read, so a small catalogue is several pages


@dataclass
class Deployment:
    """cartwire on workers: the env every process of it gets, and the workers started."""

    home: Path
    env: dict[str, str]
    database_url: str
    workers: list[Process] = field(default_factory=list)

    def start_workers(self, count: int, *args: str) -> None:
        for n in range(len(self.workers), len(self.workers) + count):
            self.workers.append(
                Process(
                    self.home,
                    "worker",
                    "--concurrency",
                    "1",
                    "--name",
                    f"test-{n}@%h",
                    *args,
                    env=self.env,
                    log=self.home / f"worker-{n}.log",
                )
            )

    def store(self) -> Store:
        return Store.open(self.database_url)


def _broker() -> str:
    url = os.environ.get(BROKER_URL_ENV, DEFAULT_BROKER_URL)
    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
    except (KombuError, OSError) as exc:
        pytest.skip(f"no broker at {url}: {exc}")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped after the test."""
    yield from fresh_database()


@pytest.fixture
def deployment(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    """A home, a fresh PostgreSQL database and a queue of its own on the local broker (this test
    process sends to it too); the workers are stopped (SIGTERM, then SIGKILL) and the queue
    deleted afterwards."""
    broker = _broker()
    queue = f"cartwire-test-{secrets.token_hex(6)}"
    database_url = pg_url
    home = tmp_path / "queued"
    home.mkdir()
    env = {
        "CARTWIRE_HOME": str(home),
        "CARTWIRE_DATABASE_URL": database_url,
        "CARTWIRE_BROKER_URL": broker,
        "CARTWIRE_QUEUE": queue,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = Deployment(home, env, database_url)
    try:
        yield found
    finally:
        for worker in found.workers:
            _stop(worker)
        _delete_queue(broker, queue)


def _delete_queue(broker: str, queue: str) -> None:
    with Connection(broker) as connection:
        channel = connection.default_channel
        Queue(queue, Exchange(queue), queue)(channel).delete()
        Exchange(queue)(channel).delete()
    if broker.startswith("redis"):  # kombu keeps the exchange's bindings beside the queue
        bindings = (f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        redis.Redis.from_url(broker).delete(*bindings)


def _stop(worker: Process) -> None:
    try:
        worker.stop(signal.SIGTERM, timeout=60)  # warm shutdown: the slice in hand, then exit
    except Exception:
        worker.stop(signal.SIGKILL)


def shortened_pages(home: Path) -> None:
    """The prebuilt flow exactly as it ships but for the size of its source pages, saved as the
    user flow of the same name (which overrides it): a small catalogue is then several pages,
    so a run is several slices."""
    document = yaml.safe_load(find(FLOW).text)
    document["source"]["page_size"] = PAGE
    folder = home / "flows"
    folder.mkdir(exist_ok=True)
    (folder / f"{FLOW}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def seeded(home: Path, catalogue: Catalogue, ct: Sandbox, cl: Sandbox, store: Store) -> World:
    """Both sandboxes loaded with `catalogue`, the demo's instances and bindings in `store`,
    and the flow's pages shortened in `home`."""
    seed(catalogue, ct, cl)
    connect_sandboxes(store, ct, cl)
    shortened_pages(home)
    return World(home, store, catalogue, ct, cl)
