"""Moving windows that several limits are checked and booked in at once, atomically.

A platform's limit may be two windows at the same time (an average over a minute and a burst
per endpoint): a request may go only when both have room, and it must take its place in both
in the same step, or two senders that each saw room would both go. In one process a lock makes
that step atomic (`MemoryWindows`); across processes — every worker of a deployment — the step
is one Lua script in Redis (`RedisWindows`), which Redis runs alone, on Redis's own clock, so
workers on machines whose clocks differ still count in one window.

`windows_for(uri)` gives one store per URI in the process: `memory://`, or a `redis://` URL
(`CARTWIRE_RATE_LIMIT_STORAGE`, which `cartwire worker` sets from a Redis broker).
"""

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import NamedTuple, Protocol

KEY_PREFIX = "cartwire-window:"

# KEYS: the sequence key, then one key per window; ARGV: amount and seconds of each window.
# Returns 0 once the request is booked in every window, else the number (from 1) of the window
# that frees last and, as a string, in how many seconds it frees.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local fullest, wait = 0, 0
for i = 2, #KEYS do
  local amount, seconds = tonumber(ARGV[2 * i - 3]), tonumber(ARGV[2 * i - 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - seconds)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= amount then
    local frees = redis.call('ZRANGE', KEYS[i], count - amount, count - amount, 'WITHSCORES')
    local after = tonumber(frees[2]) + seconds - now
    if after > wait or fullest == 0 then fullest, wait = i - 1, after end
  end
end
if fullest > 0 then return {fullest, tostring(wait)} end
for i = 2, #KEYS do
  local seconds = tonumber(ARGV[2 * i - 2])
  redis.call('ZADD', KEYS[i], now, redis.call('INCR', KEYS[1]))
  redis.call('PEXPIRE', KEYS[i], math.ceil(seconds * 1000) + 1000)
end
return {0, '0'}
"""

# KEYS: the sequence key, the window; ARGV: seconds, entries to book (0: only count).
_BOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local seconds, n = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - seconds)
for _ = 1, n do
  redis.call('ZADD', KEYS[2], now, redis.call('INCR', KEYS[1]))
end
if n > 0 then redis.call('PEXPIRE', KEYS[2], math.ceil(seconds * 1000) + 1000) end
return redis.call('ZCARD', KEYS[2])
"""


def is_redis(uri: str) -> bool:
    """Whether a storage or broker URL names a Redis server."""
    return uri.split("://")[0] in ("redis", "rediss", "unix")


class Window(NamedTuple):
    """At most `amount` requests in any `seconds`, counted under `key`."""

    key: str
    amount: int
    seconds: float


class Full(NamedTuple):
    """The request did not fit: `windows[fullest]` is the last to have room, in `seconds`."""

    fullest: int
    seconds: float


class Windows(Protocol):
    def reserve(self, windows: Sequence[Window]) -> Full | None:
        """Book one request in every window if each has room (None), else book nothing."""
        ...

    def book(self, window: Window, n: int = 0) -> int:
        """Book `n` more entries (others' requests we learnt of) and return the count."""
        ...


class MemoryWindows:
    """This process's windows: its threads and event loops share them."""

    def __init__(self) -> None:
        self._entries: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, window: Window, now: float) -> deque[float]:
        entries = self._entries.setdefault(window.key, deque())
        while entries and entries[0] <= now - window.seconds:
            entries.popleft()
        return entries

    def reserve(self, windows: Sequence[Window]) -> Full | None:
        with self._lock:
            now = time.time()
            full: Full | None = None
            for index, window in enumerate(windows):
                entries = self._live(window, now)
                if len(entries) >= window.amount:
                    frees = entries[len(entries) - window.amount] + window.seconds - now
                    if full is None or frees > full.seconds:
                        full = Full(index, frees)
            if full is not None:
                return full
            for window in windows:
                self._entries[window.key].append(now)
            return None

    def book(self, window: Window, n: int = 0) -> int:
        with self._lock:
            now = time.time()
            entries = self._live(window, now)
            entries.extend([now] * n)
            return len(entries)


class RedisWindows:
    """Windows in Redis, shared by every process that uses the same server and keys."""

    def __init__(self, uri: str) -> None:
        import redis  # the optional `redis` extra; only a shared deployment needs it

        self._client = redis.Redis.from_url(uri)
        self._reserve = self._client.register_script(_RESERVE)
        self._book = self._client.register_script(_BOOK)
        self._sequence = f"{KEY_PREFIX}sequence"

    def reserve(self, windows: Sequence[Window]) -> Full | None:
        keys = [self._sequence, *(KEY_PREFIX + window.key for window in windows)]
        args: list[float] = []
        for window in windows:
            args += [window.amount, window.seconds]
        index, seconds = self._reserve(keys=keys, args=args)
        return None if int(index) == 0 else Full(int(index) - 1, float(seconds))

    def book(self, window: Window, n: int = 0) -> int:
        keys = [self._sequence, KEY_PREFIX + window.key]
        return int(self._book(keys=keys, args=[window.seconds, n]))


_stores: dict[str, Windows] = {}
_stores_lock = threading.Lock()


def windows_for(uri: str | None) -> Windows:
    """One store of windows per URI in the process (None or `memory://`: this process's)."""
    uri = uri or "memory://"
    with _stores_lock:
        found = _stores.get(uri)
        if found is None:
            if uri == "memory://":
                found = MemoryWindows()
            elif is_redis(uri):
                found = RedisWindows(uri)
            else:
                raise ValueError(f"rate limit storage {uri!r}: expected memory:// or redis://")
            _stores[uri] = found
        return found
