"""Moving windows checked and booked in one step: in this process, and in Redis for many
processes at once, which together never book more than a window holds."""

import multiprocessing
import uuid

import pytest
import redis

from cartwire.http.shared_windows import MemoryWindows, RedisWindows, Window, Windows, windows_for
from tests.http.conftest import REDIS

HOUR = 3600.0  # windows far longer than a test: nothing leaves them while it runs


def _windows(kind: str) -> Windows:
    return MemoryWindows() if kind == "memory" else RedisWindows(REDIS)


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_request_is_booked_in_every_window_or_in_none(
    kind: str, redis_server: redis.Redis
) -> None:
    windows = _windows(kind)
    key = uuid.uuid4().hex
    average, burst = Window(f"{key}/average", 5, HOUR), Window(f"{key}/burst", 2, HOUR)
    assert windows.reserve([average, burst]) is None
    assert windows.reserve([average, burst]) is None
    full = windows.reserve([average, burst])
    assert full is not None
    assert full.fullest == 1
    assert 0 < full.seconds <= HOUR
    assert windows.book(average) == 2  # the refused request took no place in the average
    assert windows.book(average, 3) == 5  # others' requests, learnt of
    other = Window(f"{key}/other", 9, HOUR)
    refused = windows.reserve([other, average])
    assert refused is not None
    assert refused.fullest == 1
    assert windows.book(other) == 0


def test_one_store_per_uri_in_the_process() -> None:
    assert windows_for(None) is windows_for("memory://")
    assert isinstance(windows_for(REDIS), RedisWindows)
    assert windows_for(REDIS) is windows_for(REDIS)
    with pytest.raises(ValueError, match="expected memory:// or redis://"):
        windows_for("memcached://127.0.0.1:11211")


def _hammer(key: str, tries: int, booked: "multiprocessing.Queue[int]") -> None:
    windows = RedisWindows(REDIS)
    window = Window(key, 10, HOUR)
    booked.put(sum(1 for _ in range(tries) if windows.reserve([window]) is None))


def test_processes_together_book_no_more_than_the_window_holds(redis_server: redis.Redis) -> None:
    key = uuid.uuid4().hex
    context = multiprocessing.get_context("spawn")
    booked: multiprocessing.Queue[int] = context.Queue()
    processes = [context.Process(target=_hammer, args=(key, 40, booked)) for _ in range(4)]
    for process in processes:
        process.start()
    counts = [booked.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert sum(counts) == 10
    assert RedisWindows(REDIS).book(Window(key, 10, HOUR)) == 10
