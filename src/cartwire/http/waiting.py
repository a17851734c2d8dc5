"""Telling whoever made a request that a limit is holding it back, and for how long.

A run at a platform's rate limit looks stuck unless it says why it is slow. So a throttle that
holds a request back reports the pause (`report`) to the listener of the context the request was
made in (`waits_reported_to`): a flow run forwards it to its progress line. The listener lives
in a context variable, so concurrent runs in one process each hear only their own requests'
waits; threads of a pool start with an empty context, so work handed to them is wrapped with
`in_this_context`. Without a listener a report costs one lookup.

A pause itself (`pause`) must not outlive the run that asked for it: Ctrl-C reaches only the
main thread, and a pool's `shutdown` would otherwise wait for every thread to sit out its
rate-limit wait and send its queued writes after the run said "interrupted". So work handed to
threads runs in a `thread_pool`, whose threads' pauses end at once when the caller is
interrupted, and whose queued work is then cancelled.
"""

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

UNITS = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "day"}


@dataclass(frozen=True)
class Wait:
    """One request held back: by what (`limit`, `rate`) and for how long."""

    limit: str  # e.g. "<platform title> write limit": the title comes from the connector file
    rate: str  # e.g. "100/min"
    seconds: float

    def __str__(self) -> str:
        return f"waiting for {self.limit}, {self.rate}, {math.ceil(self.seconds)} s"


def rate_text(amount: int, seconds: float) -> str:
    """`100/min`, `2/s`, or `25 per 10 s` for a window of no common unit."""
    unit = UNITS.get(float(seconds))
    return f"{amount}/{unit}" if unit else f"{amount} per {seconds:.3g} s"


WaitListener = Callable[[Wait], None]
_listener: ContextVar[WaitListener | None] = ContextVar("cartwire_wait_listener", default=None)


@contextmanager
def waits_reported_to(listener: WaitListener) -> Iterator[None]:
    """Report the waits of the requests made inside the block (and in tasks it starts) to
    `listener`, which may be called from any thread."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report(wait: Wait) -> None:
    """A throttle is about to hold a request back for `wait.seconds`."""
    listener = _listener.get()
    if listener is not None:
        listener(wait)


def in_this_context(function: Callable[[T], R]) -> Callable[[T], R]:
    """`function` as a pool thread should run it: in a copy of the caller's context, so the
    waits of its requests reach the caller's listener."""
    context = copy_context()

    def run(item: T) -> R:
        return context.copy().run(function, item)

    return run


class PoolCancelled(Exception):
    """The caller of this thread's pool was interrupted: stop instead of waiting on."""


_cancelled: ContextVar[threading.Event | None] = ContextVar("cartwire_cancelled", default=None)


def pause(seconds: float) -> None:
    """Sleep as a throttle does; in a `thread_pool`'s thread, only until its caller is
    interrupted (then `PoolCancelled`)."""
    cancelled = _cancelled.get()
    if cancelled is None:
        time.sleep(seconds)
    elif cancelled.wait(seconds):
        raise PoolCancelled


@contextmanager
def thread_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool for work wrapped with `in_this_context` inside the block: an exception in the
    caller (KeyboardInterrupt included) cancels what has not started and ends the pauses of
    what has, so leaving the block takes no longer than the requests already on the wire."""
    cancelled = threading.Event()
    token = _cancelled.set(cancelled)
    pool = ThreadPoolExecutor(workers)
    try:
        yield pool
    except BaseException:
        cancelled.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        _cancelled.reset(token)
