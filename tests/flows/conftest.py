"""The fixture of the flow tests that run against both sandboxes."""

from pathlib import Path

import pytest

from cartwire.demo import connect_sandboxes
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from tests.flows.world import World


@pytest.fixture
def world(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    """Both sandboxes seeded with a small business, and an instance of each in a fresh home."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    catalogue = Catalogue(seed=5, products=60, customers=24, orders=12)
    seed(catalogue, ct, cl)
    store = Store.open()
    connect_sandboxes(store, ct, cl)
    return World(tmp_path, store, catalogue, ct, cl)
