"""A concurrency pool shared by every process on one Redis: at most `size` in flight in all.

A request first takes a slot of the process's own pool (`ConcurrencyPool`: its threads and
event loops in FIFO order, at most `size` of them), then a lease in Redis: a sorted set of the
holders per pool, where one Lua script drops leases past their expiry and adds ours only while
fewer than `size` are held, all as one step on Redis's clock. A process that dies holding
leases loses them when they expire (`LEASE_SECONDS`, longer than any request may take), so a
crash costs capacity for a while, never forever. Waiting for a lease polls, a few milliseconds
at first and never more than `MAX_POLL` apart: Redis does not tell a waiter that a slot freed.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from cartwire.http.concurrency_pool import ConcurrencyPool
from cartwire.http.waiting import pause

KEY_PREFIX = "cartwire-pool:"
LEASE_SECONDS = 600.0
FIRST_POLL = 0.005
MAX_POLL = 0.1

# KEYS: the pool's holders; ARGV: size, lease seconds, holder. 1 when the lease is taken.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""


class SharedPool(ConcurrencyPool):
    """The pool `name` of every process on the Redis at `uri` (module docstring). Clients use
    `hold`/`ahold`, which take both slots; `acquire`/`release` are the process's part only."""

    def __init__(self, name: str, size: int, uri: str) -> None:
        super().__init__(name, size)
        import redis  # the optional `redis` extra; only a shared deployment needs it

        self._client = redis.Redis.from_url(uri)
        self._take = self._client.register_script(_TAKE)
        self._key = KEY_PREFIX + name

    def _try(self, holder: str) -> bool:
        return bool(self._take(keys=[self._key], args=[self.size, LEASE_SECONDS, holder]))

    def _give_back(self, holder: str) -> None:
        self._client.zrem(self._key, holder)

    @contextmanager
    def hold(self) -> Iterator[None]:
        with super().hold():
            holder, poll = uuid.uuid4().hex, FIRST_POLL
            while not self._try(holder):
                pause(poll)
                poll = min(MAX_POLL, poll * 2)
            try:
                yield
            finally:
                self._give_back(holder)

    @asynccontextmanager
    async def ahold(self) -> AsyncIterator[None]:
        async with super().ahold():
            holder, poll = uuid.uuid4().hex, FIRST_POLL
            while not await asyncio.to_thread(self._try, holder):
                await asyncio.sleep(poll)
                poll = min(MAX_POLL, poll * 2)
            try:
                yield
            finally:
                await asyncio.to_thread(self._give_back, holder)
