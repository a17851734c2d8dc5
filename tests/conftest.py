"""Shared fixtures: both sandbox servers, started once per test session in a private home.

Tests talk to the real servers over loopback HTTP. Each test that uses `ct` or `cl` gets a server
reset to its baseline (data, faults, counters and settings), so tests never see each other's data.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cartwire.sandbox import manager


@pytest.fixture(scope="session")
def cartwire_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private CARTWIRE_HOME for the whole session, so no test touches the user's ~/.cartwire."""
    home = tmp_path_factory.mktemp("cartwire-home")
    previous = os.environ.get("CARTWIRE_HOME")
    os.environ["CARTWIRE_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("CARTWIRE_HOME", None)
    else:
        os.environ["CARTWIRE_HOME"] = previous


@pytest.fixture(scope="session")
def sandboxes(cartwire_home: Path) -> Iterator[dict[str, manager.Sandbox]]:
    """Both sandboxes, started by the same code path as `cartwire sandbox up`.

    Commerce Layer's rate limits are off here; tests that exercise them switch them on through
    the admin API (the reset after each test switches them back off).
    """
    try:
        yield manager.up(manager.Options(cl_rate_limits="off"))
    finally:
        manager.down()  # also stops a server started before the other one failed to start


def _reset(sandbox: manager.Sandbox) -> manager.Sandbox:
    httpx.post(f"{sandbox.url}/_sandbox/reset", timeout=30).raise_for_status()
    return sandbox


@pytest.fixture
def ct(sandboxes: dict[str, manager.Sandbox]) -> manager.Sandbox:
    """The commercetools sandbox, reset to an empty project."""
    return _reset(sandboxes[manager.COMMERCETOOLS])


@pytest.fixture
def cl(sandboxes: dict[str, manager.Sandbox]) -> manager.Sandbox:
    """The Commerce Layer sandbox, reset to its baseline organization."""
    return _reset(sandboxes[manager.COMMERCELAYER])
