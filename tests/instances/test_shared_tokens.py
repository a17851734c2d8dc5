"""A process shares one token per credentials and store: two homes with the same credentials
(every test's sandbox instance) each get and keep their own token."""

from pathlib import Path

import httpx

import cartwire
from cartwire.instances import Instances
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.sandbox_instances import add_instance


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
