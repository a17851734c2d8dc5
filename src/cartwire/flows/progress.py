"""What a run tells its progress callback: the run's counts so far, how many records it expects
to read, and when a limit holds it back.

The counts are the run's, not this process's: a resumed run starts from what it had done
before, so its progress continues instead of starting at 0. Waits are heard from the throttles
of every request the run makes (`cartwire.http.waiting`), in any of its threads.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cartwire.http.waiting import Wait, waits_reported_to


@dataclass(frozen=True)
class Update:
    event: str  # "start", "page" (one was committed) or "waiting"
    counts: dict[str, int]  # the run's counts so far, earlier attempts included
    total: int | None = None  # the records the read will have read in all, if the source says
    wait: Wait | None = None  # on "waiting": what holds a request back, and for how long


Progress = Callable[[Update], None]


class Reporter:
    """A run's running counts, told to `progress` (if any) as they change."""

    def __init__(self, progress: Progress | None, counts: dict[str, int]) -> None:
        self.progress = progress
        self.counts = dict(counts)
        self.total: int | None = None
        self._lock = threading.Lock()

    def _tell(self, event: str, wait: Wait | None = None) -> None:
        if self.progress is not None:
            with self._lock:
                update = Update(event, dict(self.counts), self.total, wait)
            self.progress(update)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Tell the start, then every wait of the requests made in the block."""
        self._tell("start")
        if self.progress is None:
            yield
            return
        with waits_reported_to(lambda wait: self._tell("waiting", wait)):
            yield

    def page(
        self, counts: dict[str, int], total: int | None = None, remaining: int | None = None
    ) -> None:
        """A page with these `counts` committed; `remaining` (records the read has still to
        read) or else `total` (the collection's size), when the source says."""
        with self._lock:
            for key, n in counts.items():
                self.counts[key] = self.counts.get(key, 0) + n
            if remaining is not None:
                self.total = self.counts.get("read", 0) + remaining
            elif total is not None:
                self.total = total
        self._tell("page")
