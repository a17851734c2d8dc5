"""An instance's rate limit makes requests over it wait; none of them fails.

Only lower bounds on elapsed time are asserted: a loaded machine can make the run slower, never
faster than the limit allows.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import cartwire
from cartwire.sandbox.manager import Sandbox
from tests.instances.support import add_from_stdin


@pytest.fixture
def limited(tmp_path: Path, ct: Sandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    done = add_from_stdin(
        tmp_path, ct, "slow", "--rate-limit-amount", "5", "--rate-limit-unit", "second"
    )
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    httpx.delete(f"{ct.url}/_sandbox/counters").raise_for_status()
    return "slow"


def test_threads_wait_for_the_limit(limited: str, ct: Sandbox) -> None:
    started = time.monotonic()
    with cartwire.connect(limited) as client, ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: client.get("channels").status_code, range(20)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 20
    assert elapsed >= 2.9  # 20 requests at 5/second: at least three more windows after the first
    counters = httpx.get(f"{ct.url}/_sandbox/counters").json()
    assert counters["api_requests"] == 20


def test_tasks_wait_for_the_limit(limited: str) -> None:
    async def main() -> list[int]:
        async with cartwire.aconnect(limited) as client:
            responses = await asyncio.gather(*(client.get("channels") for _ in range(12)))
        return [r.status_code for r in responses]

    started = time.monotonic()
    assert asyncio.run(main()) == [200] * 12
    assert time.monotonic() - started >= 1.9
