"""Concurrency pools: a size stored per name caps the requests in flight for every instance in
the pool, whether they send from threads or from event loops. In-flight requests are counted at
the transport (the last step before the socket), not inferred from timings.
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cartwire.http.concurrency_pool import ConcurrencyPool
from cartwire.http.shared_limits import DEFAULT_POOL_SIZE
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.http.conftest import Opener
from tests.http.test_client import counted, ct_path, fault
from tests.support import AsyncCountingTransport, CountingTransport, InFlight


def test_two_instances_in_a_pool_of_two_never_have_more_in_flight(
    ct: Sandbox, store: Store, open_platform: Opener
) -> None:
    store.pools.set("pair", 2)
    threaded = open_platform(ct, "threaded", pool="pair")
    looped = open_platform(ct, "looped", pool="pair")
    assert threaded.api.pool is looped.api.pool
    counter = InFlight()
    threaded.api.transport = CountingTransport(counter)
    looped.api.async_transport = AsyncCountingTransport(counter)
    requests = 12
    fault(ct, path="/channels$", delay=0.15, count=2 * requests)

    def from_threads() -> list[int]:
        with ThreadPoolExecutor(6) as workers:
            return list(
                workers.map(
                    lambda _: threaded.api.request("GET", "channels").status_code, range(requests)
                )
            )

    async def from_tasks() -> list[int]:
        responses = await asyncio.gather(
            *(looped.api.arequest("GET", "channels") for _ in range(requests))
        )
        await looped.api.aclose()
        return [r.status_code for r in responses]

    with ThreadPoolExecutor(2) as sides:
        threads = sides.submit(from_threads)
        tasks = sides.submit(asyncio.run, from_tasks())
        statuses = threads.result() + tasks.result()

    assert statuses == [200] * 2 * requests
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 2 * requests
    assert counter.most == 2
    assert threaded.api.pool is not None
    assert threaded.api.pool.in_flight == 0


def test_the_stored_size_applies_and_an_unset_one_is_the_default_said_aloud(
    ct: Sandbox, store: Store, open_platform: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    store.pools.set("sized", 3)
    assert open_platform(ct, "sized-member", pool="sized").api.pool.size == 3  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING, logger="cartwire.http.shared_limits"):
        unsized = open_platform(ct, "unsized-member", pool="never-sized")
    assert unsized.api.pool is not None
    assert unsized.api.pool.size == DEFAULT_POOL_SIZE
    assert "'never-sized' has no size set" in caplog.text
    assert "cartwire pools set never-sized" in caplog.text


def test_a_cancelled_waiter_gives_no_slot_away() -> None:
    pool = ConcurrencyPool("cancel", 1)
    pool.acquire()

    async def main() -> None:
        waiting = asyncio.ensure_future(pool.aacquire())
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        pool.release()
        async with pool.ahold():
            assert pool.in_flight == 1

    asyncio.run(main())
    assert pool.in_flight == 0


def test_a_thread_and_a_task_take_turns_in_a_pool_of_one() -> None:
    pool = ConcurrencyPool("turns", 1)
    order: list[str] = []
    pool.acquire()

    async def task() -> None:
        async with pool.ahold():
            order.append("task")

    runner = threading.Thread(target=asyncio.run, args=(task(),))
    runner.start()
    while not pool._waiters:  # the task is queued behind the thread's slot
        threading.Event().wait(0.01)
    order.append("thread")
    pool.release()
    runner.join()
    with pool.hold():
        assert pool.in_flight == 1
    assert order == ["thread", "task"]
    assert pool.in_flight == 0
