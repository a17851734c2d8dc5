"""The world the service tests run flows in: both sandboxes with a small business, and a store
in a private home connected to them."""

from pathlib import Path

import pytest

from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from tests.flows.world import World


@pytest.fixture
def world(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    return World.seeded(tmp_path, Catalogue(seed=3, products=8, customers=4, orders=2), ct, cl)
