"""The world the service tests run flows in: both sandboxes with a small business, and a store
in a private home connected to them; or only the services, over an empty private home."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.services.context import Services
from tests.flows.world import World


@pytest.fixture
def world(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    return World.seeded(tmp_path, Catalogue(seed=3, products=8, customers=4, orders=2), ct, cl)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The services over a fresh home of their own (SQLite), as `cartwire serve` opens them."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Services() as opened:
        yield opened
