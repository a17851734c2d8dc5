"""A per-instance rate limit that makes requests over it wait instead of failing.

Patchworks queues requests over an instance's limit and sends them when the limit allows; so do
we. The counting is done by the `limits` library (moving window). By default the window lives in
this process's memory, shared by its threads and event loops; with
`CARTWIRE_RATE_LIMIT_STORAGE=redis://host:6379/0` it lives in Redis, so every process (several
workers, consecutive CLI calls) draws on one budget per instance.
"""

import asyncio
import os
import threading
import time
import weakref
from dataclasses import dataclass

import httpx
from limits import RateLimitItem, parse
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cartwire.http.waiting import Wait, pause, rate_text, report

UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}  # in seconds
STORAGE_ENV = "CARTWIRE_RATE_LIMIT_STORAGE"
KEY_PREFIX = "cartwire-instance"


@dataclass(frozen=True)
class RateLimit:
    amount: int
    unit: str

    @property
    def item(self) -> RateLimitItem:
        return parse(f"{self.amount}/{self.unit}")

    def __str__(self) -> str:
        return rate_text(self.amount, UNITS[self.unit])


def storage_uri() -> str | None:
    """$CARTWIRE_RATE_LIMIT_STORAGE, e.g. redis://127.0.0.1:6379/0 (None: this process only)."""
    return os.environ.get(STORAGE_ENV) or None


def _async_storage(uri: str) -> AsyncStorage:
    options = {"implementation": "redispy"} if uri.split("://")[0].startswith("redis") else {}
    storage = storage_from_string(f"async+{uri}", **options)
    assert isinstance(storage, AsyncStorage)
    return storage


class Limiter:
    """Blocks (or awaits) until a request fits in the instance's window (a `Throttle`)."""

    def __init__(self, key: str, limit: RateLimit, storage: str | None = None) -> None:
        self.key = f"{KEY_PREFIX}:{key}"
        self.item = limit.item
        self.name = f"the rate limit of {key}"
        self.limit = limit
        self.storage = storage or storage_uri()
        sync = storage_from_string(self.storage) if self.storage else MemoryStorage()
        self._sync = MovingWindowRateLimiter(sync)
        # A shared server is reached from each event loop by that loop's own client (asyncio
        # connections belong to one loop). In memory, tasks count in the threads' window:
        # reading memory never blocks a loop.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncMovingWindow]
        self._async = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _loop_limiter(self) -> AsyncMovingWindow | None:
        if self.storage is None:
            return None
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._async.get(loop)
            if found is None:
                found = self._async[loop] = AsyncMovingWindow(_async_storage(self.storage))
            return found

    def _pause(self, reset_at: float) -> float:
        seconds = max(0.005, reset_at - time.time())
        report(Wait(self.name, str(self.limit), seconds))
        return seconds

    def _try(self) -> float | None:
        """None when the request fits (and is counted), else how long to wait."""
        with self._lock:
            if self._sync.hit(self.item, self.key):
                return None
            return self._pause(self._sync.get_window_stats(self.item, self.key).reset_time)

    def acquire(self, request: httpx.Request | None = None) -> None:
        while (seconds := self._try()) is not None:
            pause(seconds)

    async def aacquire(self, request: httpx.Request | None = None) -> None:
        shared = self._loop_limiter()
        while True:
            if shared is None:
                pause = self._try()
            elif await shared.hit(self.item, self.key):
                pause = None
            else:
                stats = await shared.get_window_stats(self.item, self.key)
                pause = self._pause(stats.reset_time)
            if pause is None:
                return
            await asyncio.sleep(pause)

    def observe(self, response: httpx.Response) -> None:
        """A fixed budget learns nothing from answers (a `Throttle` method)."""


_limiters: dict[tuple[str, RateLimit], Limiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(key: str, limit: RateLimit) -> Limiter:
    """One limiter per instance in this process, shared by all of its clients."""
    with _limiters_lock:
        return _limiters.setdefault((key, limit), Limiter(key, limit))
