"""How a run ends: the status its counts earn, and what an exception that ends it leaves.

Shared by both kinds of run (`page_loop`, `given_records`), so that a run ends the same way,
and reads the same in `runs list`, whether it read pages or was given its records.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from cartwire.flows.failure_reasons import describe, most_common, of_exception
from cartwire.store import Store
from cartwire.store.runs import LeaseLost, Run, ShardCursor


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C ended the run: it is recorded as `interrupted`, and can be resumed."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id


def final_status(store: Store, run_id: int) -> str:
    counts = store.runs.get(run_id).counts
    if not counts.get("failed"):
        return "succeeded"
    written = sum(counts.get(k, 0) for k in ("created", "updated", "unchanged"))
    return "partially succeeded" if written else "failed"


def finished(store: Store, run: Run, status: str, cursor: ShardCursor | None = None) -> Run:
    """End a run that read (or was given) all it could, under its fencing token: its failure
    kind, if records failed, is theirs, the most common among them. A shard's `cursor` says
    where its run's cursor moves when this was its last shard."""
    kind = most_common(store.run_failures.kinds(run.shard_of or run.id))
    return store.runs.finish(
        run.id, status, fence=run.lease_token, failure_kind=kind, cursor=cursor
    )


@contextmanager
def ended_on_error(store: Store, run: Run) -> Iterator[None]:
    """Record how an exception from the block ended the run, and let it go on; Ctrl-C leaves
    the run resumable, as `RunInterrupted` (which still is a KeyboardInterrupt). A run taken
    over meanwhile (`LeaseLost`) is not this holder's to end: it only stops."""
    try:
        yield
    except LeaseLost:
        raise
    except KeyboardInterrupt as exc:
        store.run_logs.add(run.id, "info", "interrupted (Ctrl-C); resume to continue")
        store.runs.finish(run.id, "interrupted", fence=run.lease_token)
        if not isinstance(exc, RunInterrupted):
            raise RunInterrupted(run.id) from None
        raise
    except BaseException as exc:
        kind = of_exception(exc)
        store.runs.finish(
            run.id, "failed", error=describe(exc), fence=run.lease_token, failure_kind=kind
        )
        raise
