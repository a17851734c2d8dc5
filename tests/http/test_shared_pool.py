"""A concurrency pool in Redis: several processes, each with threads and an event loop, never
hold more than the pool's size at once in all."""

import asyncio
import multiprocessing
import threading
import time
import uuid

import pytest
import redis

from cartwire.http.instance_rate_limit import STORAGE_ENV
from cartwire.http.shared_limits import pool_for
from cartwire.http.shared_pool import SharedPool
from tests.http.conftest import REDIS

SIZE = 3
PROCESSES, THREADS, HOLDS = 4, 4, 5


def _work(name: str, seen: "multiprocessing.Queue[int]") -> None:
    """Hold the pool from threads and tasks; note how many held it, counted in Redis, each
    time (the short sleep stands for a request on the wire)."""
    pool = SharedPool(name, SIZE, REDIS)
    counter = redis.Redis.from_url(REDIS)
    key = f"{name}:holding"
    most: list[int] = []

    def held() -> None:
        most.append(int(counter.incr(key)))
        time.sleep(0.01)
        counter.decr(key)

    def thread() -> None:
        for _ in range(HOLDS):
            with pool.hold():
                held()

    async def task() -> None:
        for _ in range(HOLDS):
            async with pool.ahold():
                held()

    async def tasks() -> None:
        await asyncio.gather(*(task() for _ in range(THREADS)))

    threads = [threading.Thread(target=thread) for _ in range(THREADS)]
    for started in threads:
        started.start()
    asyncio.run(tasks())
    for started in threads:
        started.join()
    seen.put(max(most))


def test_processes_together_hold_no_more_than_the_size(redis_server: redis.Redis) -> None:
    name = f"pool-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    seen: multiprocessing.Queue[int] = context.Queue()
    processes = [context.Process(target=_work, args=(name, seen)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    most = [seen.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert max(most) <= SIZE
    assert redis_server.zcard(f"cartwire-pool:{name}") == 0  # every lease given back


def test_the_pool_is_in_redis_when_the_storage_is(
    redis_server: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORAGE_ENV, REDIS)
    assert isinstance(pool_for(f"shared-{uuid.uuid4().hex}", 2), SharedPool)
    monkeypatch.delenv(STORAGE_ENV)
    assert not isinstance(pool_for(f"local-{uuid.uuid4().hex}", 2), SharedPool)
