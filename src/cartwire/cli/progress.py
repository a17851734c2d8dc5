"""A flow run's progress on stderr: counts, rate, ETA when the source reports a total, and what
the run is waiting for when a rate limit holds it back.

On a terminal it is one live line. Redirected (a log file, CI, a parent process) it is a line
per committed page and per wait, so the log says what happened and when.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task
from rich.table import Column
from rich.text import Text

from cartwire.cli.common import clock, err

if TYPE_CHECKING:
    from cartwire.services.progress import Update, Wait

# The counts of a dry run as a person reads them: nothing was written.
DRY_RUN_COUNTS = {"created": "would create", "updated": "would update"}
WRITTEN = ("created", "updated", "unchanged")
DRY_RUN_SHOWN = ("created", "updated", "unchanged", "skipped", "failed")


class _State:
    """The latest update, the waits still in progress, and what to print of them."""

    def __init__(self, title: str, dry_run: bool) -> None:
        self.title = title
        self.dry_run = dry_run
        self.started = time.monotonic()
        self.first_read: int | None = None  # what the run had read before this process
        self.last: Update | None = None
        self.waits: dict[str, tuple[Wait, float]] = {}  # limit -> (wait, when it ends)
        self.lock = threading.Lock()

    def take(self, update: "Update") -> bool:
        """Note `update`; False for a wait already shown (one more request held by it)."""
        now = time.monotonic()
        with self.lock:
            read = update.counts.get("read", 0)
            if self.first_read is None:
                self.first_read = read
            self.last = update
            if update.wait is None:
                return True
            wait = update.wait
            known = self.waits.get(wait.limit)
            new = known is None or known[1] <= now
            until = max(now + wait.seconds, known[1] if known else 0.0)
            self.waits[wait.limit] = (wait, until)
            return new

    def counts(self) -> str:
        if self.last is None:
            return f"{self.title}: starting"
        counts, total = self.last.counts, self.last.total
        of = f" of {total:,}" if total is not None else ""
        read = f"read {counts.get('read', 0):,}{of}"
        if self.dry_run:  # nothing was written: say what would be
            done = [f"{DRY_RUN_COUNTS.get(k, k)} {counts.get(k, 0):,}" for k in DRY_RUN_SHOWN]
            return f"{self.title} (dry run): {' · '.join([read, *done])}"
        written = sum(counts.get(k, 0) for k in WRITTEN)
        return (
            f"{self.title}: {read} · written {written:,} · "
            f"failed {counts.get('failed', 0):,} · skipped {counts.get('skipped', 0):,}"
        )

    def pace(self) -> str:
        """Read rate of this process and, with a total, the time left at that rate."""
        if self.last is None or self.first_read is None:
            return ""
        elapsed = time.monotonic() - self.started
        read = self.last.counts.get("read", 0)
        rate = (read - self.first_read) / elapsed if elapsed > 0 else 0.0
        if rate <= 0:
            return ""
        text = f"{rate:,.0f} read/s"
        total = self.last.total
        if total is not None and total > read:
            text += f" · ETA {clock((total - read) / rate)}"
        return text

    def waiting(self) -> str:
        """The longest wait still going on, with its seconds left."""
        now = time.monotonic()
        with self.lock:
            going = [(until, wait) for wait, until in self.waits.values() if until > now]
        if not going:
            return ""
        until, wait = max(going, key=lambda pair: pair[0])
        return str(replace(wait, seconds=until - now))


class _Live(ProgressColumn):
    """The whole line — counts, time elapsed, rate, ETA and the current wait — as one text,
    computed at each refresh so a wait counts down. One column that takes the width left by
    the spinner: as separate columns, the counts took the width and the wait was cut to a
    word per line at 80 columns; one text wraps between words instead."""

    def __init__(self, state: _State) -> None:
        super().__init__(table_column=Column(ratio=1))
        self.state = state

    def render(self, task: Task) -> Text:
        elapsed = clock(task.elapsed or 0.0)
        parts = [self.state.counts(), elapsed, self.state.pace(), self.state.waiting()]
        return Text(" · ".join(p for p in parts if p))


@contextmanager
def progress_bar(
    enabled: bool, title: str, dry_run: bool = False
) -> "Iterator[Callable[[Update], None]]":
    """The progress callback of a run, shown on stderr while the block runs (a dry run's says
    what it would create and update: it writes nothing)."""
    state = _State(title, dry_run)
    if not enabled:
        yield lambda _update: None
        return
    if not err.is_terminal:
        printed = [""]

        def line(update: "Update") -> None:
            if not state.take(update):
                return
            if update.wait is not None:
                shown = f"{title}: {update.wait}"
            else:
                shown = " · ".join(p for p in (state.counts(), state.pace()) if p)
            if shown != printed[0]:  # e.g. an empty last page changes nothing
                printed[0] = shown
                err.print(shown, soft_wrap=True, markup=False)

        yield line
        return
    with Progress(SpinnerColumn(), _Live(state), console=err, transient=False) as bar:
        bar.add_task(title)  # what it shows is the state's, redrawn at each refresh

        def update(update: "Update") -> None:
            state.take(update)

        yield update
