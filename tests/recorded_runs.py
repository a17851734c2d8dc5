"""Runs put in the store the way a runner leaves them, for tests of what reads runs back (history,
dashboards, busy bindings) without running a flow: one helper, so every such test records a
run the same way the store's own runners do."""

import os

from cartwire.procinfo import owner_token
from cartwire.store.runs import PageProgress, Run, Runs

ELSEWHERE = "elsewhere:1:1"  # a runner on another host: never seen as dead from here


def record_run(
    runs: Runs,
    flow: str = "f",
    *,
    source: str = "a",
    destination: str = "b",
    trigger: str = "manual",
    status: str | None = "succeeded",
    counts: dict[str, int] | None = None,
    dry_run: bool = False,
    owner: str | None = ELSEWHERE,
) -> Run:
    """A run started by `owner` (None: queued for the workers), its `counts` committed as one
    page, then ended with `status` (None: left as it is)."""
    run = runs.start(
        flow=flow,
        version=1,
        text="",
        trigger=trigger,
        source=source,
        destination=destination,
        full=False,
        dry_run=dry_run,
        owner=owner,
    )
    if counts:
        runs.commit_page(run.id, PageProgress(checkpoint=None, counts=counts))
    return run if status is None else runs.finish(run.id, status)


def held_run(runs: Runs, flow: str, source: str, destination: str, trigger: str = "manual") -> Run:
    """A run left running by this test process: alive, so the binding's lock counts as held."""
    return record_run(
        runs,
        flow,
        source=source,
        destination=destination,
        trigger=trigger,
        status=None,
        owner=owner_token(os.getpid()),
    )
