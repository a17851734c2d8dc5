"""One slice of a run, as a worker processes the message it was given.

A slice takes the run (`store.runs.take_slice`: only the message of the slice the run is at may,
with a new fencing token), goes on from the run's last checkpoint for a few pages
(`SliceBudget`), and hands the run over to the next slice, whose message it sends
(`store.runs.hand_over`), unless the run ended. A lost worker costs at most one slice: its
message comes again and the slice goes on from the last page committed. A message that comes
twice, or late, is refused and says so in the run's log; a slice whose run was taken over
meanwhile commits nothing (`LeaseLost`), so a record is never counted twice.

Nothing here knows Celery: the worker hands in how to send a slice's message (`Send`).
"""

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cartwire.flows.failure_reasons import describe, of_exception
from cartwire.flows.page_loop import Budget
from cartwire.flows.runner import FlowRunner
from cartwire.procinfo import owner_token
from cartwire.services.clients import opener
from cartwire.store import Store
from cartwire.store.runs import LeaseLost, Run, RunNotFound, SliceRefused

log = logging.getLogger(__name__)

SLICE_PAGES = 5  # pages a slice reads at most
SLICE_SECONDS = 60  # and it starts no page after this long: a slice is short whatever the page
SHARDS = 8  # a new full read is cut into at most this many shards ...
SHARD_RECORDS = 10_000  # ... each of at least this many source records

AGAIN = "the workers queue it again once the broker takes messages (or resume the run)"

Send = Callable[[int, int], None]  # (run id, slice number): send that slice's message


@dataclass(frozen=True)
class SliceBudget:
    """How much of a run one slice processes: at most `pages` pages, and no page begun after
    `seconds`."""

    pages: int = SLICE_PAGES
    seconds: float = SLICE_SECONDS
    # A new full read is cut into up to this many shards, read at once (1: never cut), ...
    shards: int = SHARDS
    # ... of at least this many source records each: a small read stays whole.
    shard_records: int = SHARD_RECORDS

    def __post_init__(self) -> None:
        if self.pages < 1 or self.seconds <= 0 or self.shards < 1 or self.shard_records < 1:
            raise ValueError(f"a slice needs at least one page and some time, not {self}")

    def starting_now(self) -> Budget:
        began = time.monotonic()
        return lambda pages: pages < self.pages and time.monotonic() - began < self.seconds


def process_slice(store: Store, run_id: int, number: int, send: Send, budget: SliceBudget) -> str:
    """Process slice `number` of run `run_id` in this process; what became of it, for the
    worker's log: the run's status if it ended, `handed over`, or why the slice did nothing."""
    owner = owner_token(os.getpid())
    try:
        run = store.runs.take_slice(run_id, number, owner)
    except SliceRefused as refused:
        _note(store, run_id, f"slice {number} skipped: {refused}")
        return f"skipped: {refused}"
    taken = f"slice {number} on {owner} (fencing token {run.lease_token})"
    store.run_logs.add(run_id, "info", taken)
    try:
        runner = FlowRunner.from_run(store, run, opener(store))
        if number == 0 and (
            checkpoints := runner.shard_checkpoints(run, budget.shards, budget.shard_records)
        ):
            return _cut(store, run, checkpoints, send)
        ended = runner.slice(run, budget.starting_now())
        if ended is not None:
            return ended.status
    except LeaseLost as lost:
        _note(store, run_id, f"slice {number} stopped: {lost}", "warning")
        return "taken over"
    except Exception as exc:  # the page loop ended the run `failed`; anything before it, here
        if store.runs.get(run_id).status == "running":
            store.runs.finish(
                run_id,
                "failed",
                error=describe(exc),
                fence=run.lease_token,
                failure_kind=of_exception(exc),
            )
        log.warning("slice %s of run %s ended the run: %s", number, run_id, describe(exc))
        return "failed"
    try:
        store.runs.hand_over(run_id, run.lease_token, lambda after: send(run_id, after))
    except LeaseLost as lost:
        _note(store, run_id, f"slice {number} stopped: {lost}", "warning")
        return "taken over"
    except Exception as exc:  # the broker did not take the next slice: resumable, not stuck
        reason = f"slice {number + 1} could not be queued ({describe(exc)}); {AGAIN}"
        _note(store, run_id, reason, "error")
        store.runs.finish(run_id, "interrupted", fence=run.lease_token)
        log.warning("run %s: %s", run_id, reason)
        return "interrupted"
    return "handed over"


def _cut(store: Store, run: Run, checkpoints: list[dict[str, Any]], send: Send) -> str:
    """Cut `run` into shards and send each one's first slice. A shard whose message the broker
    did not take leaves the run `interrupted`: the workers' sweep sends the shards' messages
    again once the broker takes them (as it does should this process die meanwhile)."""
    cut = store.runs.shard(run.id, run.lease_token, checkpoints)
    shards = ", ".join(str(s.id) for s in cut)
    store.run_logs.add(run.id, "info", f"cut into {len(cut)} shards: runs {shards}")
    try:
        for shard in cut:
            send(shard.id, 0)
    except Exception as exc:
        reason = f"a shard's first slice could not be queued ({describe(exc)}); {AGAIN}"
        _note(store, run.id, reason, "error")
        store.runs.finish(run.id, "interrupted", fence=run.lease_token)
        log.warning("run %s: %s", run.id, reason)
        return "interrupted"
    store.runs.shards_sent(run.id, run.lease_token)
    return f"cut into {len(cut)} shards"


def requeue_lost(store: Store, send: Send) -> list[int]:
    """Queue again the runs whose slice was lost with its worker (`Runs.requeue_lost`): the
    queue delivers a message again when the process holding it is killed, but not when the
    whole worker vanishes (its unacknowledged message waits for the broker's visibility
    timeout, an hour on Redis) nor when the broker lost the message; the store knows better."""
    requeued = store.runs.requeue_lost(send)
    if requeued:
        log.warning("queued again, their workers gone: runs %s", ", ".join(map(str, requeued)))
    return requeued


def _note(store: Store, run_id: int, message: str, level: str = "info") -> None:
    """A line in the run's log, when the run still exists."""
    try:
        store.runs.get(run_id)
    except RunNotFound:
        log.info("%s", message)
        return
    store.run_logs.add(run_id, level, message)
