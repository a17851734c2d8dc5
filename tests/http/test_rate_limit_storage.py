"""Where an instance's rate-limit window lives: one window per process in memory (threads and
event loops draw on the same budget), or Redis, shared by every process."""

import asyncio
import uuid
from pathlib import Path

import pytest
import redis

from cartwire.http.instance_rate_limit import KEY_PREFIX, STORAGE_ENV, Limiter, RateLimit
from cartwire.instances import Settings
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.http.conftest import REDIS
from tests.sandbox_instances import add_instance
from tests.support import run_cli

THREE_A_MINUTE = RateLimit(3, "minute")


def still_waiting(limiter: Limiter) -> bool:
    """True when an asyncio acquire is held back (the window cannot reset within a minute)."""

    async def attempt() -> bool:
        try:
            await asyncio.wait_for(limiter.aacquire(), 0.3)
        except TimeoutError:
            return True
        return False

    return asyncio.run(attempt())


def test_in_memory_threads_and_tasks_share_one_window() -> None:
    limiter = Limiter(f"memory-{uuid.uuid4().hex}", THREE_A_MINUTE)
    for _ in range(3):
        limiter.acquire()
    assert still_waiting(limiter)


def test_in_redis_two_limiters_share_one_window(redis_server: redis.Redis) -> None:
    key = f"shared-{uuid.uuid4().hex}"
    first, second = Limiter(key, THREE_A_MINUTE, REDIS), Limiter(key, THREE_A_MINUTE, REDIS)
    first.acquire()
    first.acquire()
    asyncio.run(second.aacquire())
    assert still_waiting(second)
    assert still_waiting(first)
    assert redis_server.keys(f"*{KEY_PREFIX}:{key}*")


def test_consecutive_processes_draw_on_one_budget(
    tmp_path: Path, ct: Sandbox, redis_server: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"redis-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    with Store.open() as store:
        add_instance(store, ct, name, Settings(rate_limit_amount=3, rate_limit_unit="minute"))
    for _ in range(2):
        done = run_cli(tmp_path, "get", name, "channels", env={STORAGE_ENV: REDIS})
        assert done.returncode == 0, done.stderr
    here = Limiter(name, THREE_A_MINUTE, REDIS)
    here.acquire()  # the third request of the minute, after two in other processes
    assert still_waiting(here)
