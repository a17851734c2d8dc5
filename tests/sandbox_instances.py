"""Saving (and opening) instances that point at the sandboxes, through the Python API (no
subprocess).

Tests of the engine and the CLI need saved instances but not the `instances add` command
itself (tests/instances covers that); this is the quick way to get them. The tests of that
command take the sandbox's fields from here too, so both agree on what an instance needs.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cartwire.instances import Instances, Settings
from cartwire.resources import Platform
from cartwire.sandbox.manager import COMMERCETOOLS, Sandbox
from cartwire.services.clients import open_platform
from cartwire.store import InstanceRecord, Store

CT_FIELDS = ("scope", "client_id", "client_secret", "project_key", "auth_url", "api_url")
CL_FIELDS = ("domain", "client_id", "client_secret", "scope", "auth_url", "api_url")


def fields(sandbox: Sandbox) -> dict[str, str]:
    """The sandbox's credentials as the fields of an instance of its platform."""
    names = CT_FIELDS if sandbox.platform == COMMERCETOOLS else CL_FIELDS
    return {key: sandbox.credentials[key] for key in names}


def set_args(sandbox: Sandbox, **overrides: str) -> list[str]:
    """`--set key=value` for each of the sandbox's fields but the secret, for `instances add`:
    tests hand the secret over their own way (environment, stdin, or a wrong one in overrides)."""
    values = {key: value for key, value in fields(sandbox).items() if key != "client_secret"}
    return [arg for k, v in {**values, **overrides}.items() for arg in ("--set", f"{k}={v}")]


def add_instance(
    store: Store, sandbox: Sandbox, name: str, settings: Settings | None = None
) -> InstanceRecord:
    """Save an instance of the sandbox's platform under `name` (credentials not re-tested)."""
    return Instances(store).add(sandbox.platform, name, fields(sandbox), settings, test=False)


@contextmanager
def opened(
    sandbox: Sandbox, name: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    """The sandbox saved as instance `name` in a private cartwire home and opened, so each test
    has its own instance record, and so its own ApiClient and statistics."""
    monkeypatch.setenv("CARTWIRE_HOME", str(home))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Store.open() as store:
        add_instance(store, sandbox, name)
        with open_platform(store, name) as platform:
            yield platform
