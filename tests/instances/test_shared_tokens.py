"""A process shares one token per credentials and store: two homes with the same credentials
(every test's sandbox instance) each get and keep their own token; processes on one PostgreSQL
store that all need the token at once ask for it once between them."""

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import cartwire
from cartwire.auth import TokenSource
from cartwire.instances import Instances
from cartwire.instances.service import StoreTokens
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.sandbox_instances import add_instance
from tests.store.conftest import fresh_database

PROCESSES = 4


def test_each_store_gets_and_keeps_its_own_token(tmp_path: Path, ct: Sandbox) -> None:
    stores = [Store.open(f"sqlite:///{tmp_path / name}.db") for name in ("first", "second")]
    try:
        for store in stores:
            record = add_instance(store, ct, "it")
            with cartwire.connect("it", store=store) as client:
                assert client.get("products").status_code == 200
            cache_key = Instances(store).endpoint(record).cache_key
            assert store.tokens.load(cache_key) is not None  # kept for the next process
        counters = httpx.get(f"{ct.url}/_sandbox/counters").json()
        assert counters["token_requests"] == 2
        first, second = (store.tokens.load(cache_key) for store in stores)
        assert first is not None
        assert second is not None
        assert first.access_token != second.access_token
    finally:
        for store in stores:
            store.close()


def _token(
    url: str,
    barrier: "multiprocessing.synchronize.Barrier",
    tokens: "multiprocessing.Queue[str]",
) -> None:
    with Store.open(url) as store:
        instances = Instances(store)
        source = instances.token_source(instances.get("it"))
        barrier.wait(120)  # all at once, none with a token yet
        tokens.put(source.token().access_token)


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from fresh_database()


def test_processes_on_one_store_fetch_the_token_once(
    tmp_path: Path, cl: Sandbox, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))  # the key the processes share
    with Store.open(pg_url) as store:
        add_instance(store, cl, "it")  # not tested: no token yet
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    tokens: multiprocessing.Queue[str] = context.Queue()
    processes = [
        context.Process(target=_token, args=(pg_url, barrier, tokens)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    got = [tokens.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert len(set(got)) == 1
    assert httpx.get(f"{cl.url}/_sandbox/counters").json()["token_requests"] == 1


def test_a_refused_token_is_replaced_once_for_every_process(tmp_path: Path, cl: Sandbox) -> None:
    """Two sources on one store stand for two processes: after a 401 each drops the token, the
    first to ask again fetches the next one and the other takes that from the store."""
    with Store.open(f"sqlite:///{tmp_path / 'tokens.db'}") as store:
        record = add_instance(store, cl, "it")
        instances = Instances(store)
        endpoint = instances.endpoint(record)
        first, second = (TokenSource(endpoint, StoreTokens(store, "it")) for _ in range(2))
        refused = first.token().access_token
        assert second.token().access_token == refused  # from the store
        first.invalidate(refused)
        second.invalidate(refused)
        renewed = first.token().access_token
        assert renewed != refused
        assert second.token().access_token == renewed
        assert (first.requests_made, second.requests_made) == (2, 0)
