"""The fixtures every commercetools resource test takes: the sandbox's admin API and the sandbox
opened as an instance in the test's own cartwire home (so each test has its own ApiClient)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from cartwire.resources import Platform
from cartwire.sandbox.manager import Sandbox
from tests.platforms.ct_support import Admin
from tests.sandbox_instances import opened


@pytest.fixture
def admin(ct: Sandbox) -> Admin:
    return Admin(ct)


@pytest.fixture
def platform(ct: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    with opened(ct, "ct", tmp_path, monkeypatch) as platform:
        yield platform
