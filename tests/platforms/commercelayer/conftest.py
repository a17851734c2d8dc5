"""The fixtures every Commerce Layer resource test takes: the sandbox's admin API and the sandbox
opened as an instance in the test's own cartwire home (so each test has its own ApiClient)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from cartwire.resources import Platform
from cartwire.sandbox.manager import Sandbox
from tests.platforms.cl_support import Admin
from tests.sandbox_instances import opened


@pytest.fixture
def admin(cl: Sandbox) -> Admin:
    return Admin(cl)


@pytest.fixture
def platform(cl: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    with opened(cl, "cl", tmp_path, monkeypatch) as platform:
        yield platform
