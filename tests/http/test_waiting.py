"""A throttle's pause in a pool thread ends when the pool's caller is interrupted, and work not
yet started is cancelled: Ctrl-C stops a run at its rate limit without sending queued writes."""

import threading
from concurrent.futures import Future

import pytest

from cartwire.http.waiting import PoolCancelled, in_this_context, pause, thread_pool


def test_an_interrupted_caller_ends_the_pauses_and_cancels_queued_work() -> None:
    pausing = threading.Event()
    ran: list[int] = []
    ended: list[str] = []

    def work(number: int) -> None:
        ran.append(number)
        pausing.set()
        try:
            pause(600)  # a rate-limit wait far longer than the test may take
        except PoolCancelled:
            ended.append("cancelled")
            raise

    futures: list[Future[None]] = []

    def interrupted_caller() -> None:
        with thread_pool(1) as pool:
            futures.extend(pool.submit(in_this_context(work), n) for n in range(3))
            pausing.wait()
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    with pytest.raises(KeyboardInterrupt):
        interrupted_caller()
    assert ran == [0]
    assert ended == ["cancelled"]
    assert all(future.cancelled() for future in futures[1:])


def test_work_that_finishes_is_not_cancelled() -> None:
    with thread_pool(2) as pool:
        results = list(pool.map(in_this_context(lambda n: n * 2), range(5)))
    assert results == [0, 2, 4, 6, 8]
    pause(0)  # outside a pool: a plain sleep
