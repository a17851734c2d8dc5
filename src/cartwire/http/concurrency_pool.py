"""A concurrency pool: at most `size` requests in flight, whoever sends them.

Several instances may name one pool (Patchworks' "concurrency pools"), and one process may send
from threads and from any number of event loops at once, so a `threading.Semaphore` plus an
`asyncio.Semaphore` per loop would let `size` through on each side. This pool keeps one count
under one lock and hands a freed slot directly to the longest waiter, a thread or a task alike
(FIFO, so neither side starves the other). It does not reach across processes: that needs a
shared store such as Redis.
"""

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager


class _ThreadWaiter:
    def __init__(self) -> None:
        self.event = threading.Event()

    def grant(self, pool: "ConcurrencyPool") -> bool:
        self.event.set()
        return True


class _TaskWaiter:
    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        self.loop = loop
        self.future = future

    def grant(self, pool: "ConcurrencyPool") -> bool:
        if self.loop.is_closed():
            return False
        try:
            self.loop.call_soon_threadsafe(self._deliver, pool)
        except RuntimeError:  # the loop closed between the check and the call
            return False
        return True

    def _deliver(self, pool: "ConcurrencyPool") -> None:
        # Runs in the waiter's loop. A task cancelled meanwhile no longer wants the slot.
        if self.future.done():
            pool.release()
        else:
            self.future.set_result(None)


class ConcurrencyPool:
    """At most `size` requests in flight across every instance, thread and event loop using it."""

    def __init__(self, name: str, size: int) -> None:
        if size < 1:
            raise ValueError(f"pool {name!r}: size must be at least 1, got {size}")
        self.name = name
        self._size = size
        self._in_flight = 0
        self._lock = threading.Lock()
        self._waiters: deque[_ThreadWaiter | _TaskWaiter] = deque()

    @property
    def size(self) -> int:
        return self._size

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def resize(self, size: int) -> None:
        """Change the size in place (the stored size changed); waiters get any new room now."""
        if size < 1:
            raise ValueError(f"pool {self.name!r}: size must be at least 1, got {size}")
        with self._lock:
            self._size = size
            while self._waiters and self._in_flight < self._size:
                self._in_flight += 1
                if not self._waiters.popleft().grant(self):
                    self._in_flight -= 1

    def acquire(self) -> None:
        with self._lock:
            if self._in_flight < self._size and not self._waiters:
                self._in_flight += 1
                return
            waiter = _ThreadWaiter()
            self._waiters.append(waiter)
        waiter.event.wait()  # the releaser handed its slot over: in_flight already counts us

    async def aacquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_flight < self._size and not self._waiters:
                self._in_flight += 1
                return
            waiter = _TaskWaiter(loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:  # never granted: just leave the queue
                    self._waiters.remove(waiter)
                    raise
            # Granted. If the slot was delivered before the cancellation we own it; otherwise
            # `_deliver` sees the cancelled future and releases it.
            if not waiter.future.cancelled():
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            if self._in_flight <= self._size:
                while self._waiters:
                    if self._waiters.popleft().grant(self):
                        return  # the slot passes on: in_flight unchanged
            self._in_flight -= 1

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    @asynccontextmanager
    async def ahold(self) -> AsyncIterator[None]:
        await self.aacquire()
        try:
            yield
        finally:
            self.release()
