"""Runs a long-lived process (the HTTP server) starts without waiting for them to end: a new
run, a resume, a retry, each in a thread of this process (`ThreadLauncher`).

Each call returns once the run is recorded, with its id to follow, or raises why it could not
start, exactly as the CLI would have: `RunBusy` while the binding has a run going,
`InstanceNotFound`, `FlowError` (`LookupsMissing` among them) and so on. It waits for that
however long it takes (no start timeout), so the caller is never left with a run that may or may
not have started.
"""

from typing import Any

from cartwire.flows.catalog import find_by_name
from cartwire.services.flows import instances_for
from cartwire.services.launcher import ThreadLauncher
from cartwire.services.runs import RunView
from cartwire.store import Store


class RunStarter:
    """One per long-lived process (the HTTP server): starts runs in threads (ThreadLauncher)
    and returns once the run is recorded."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._launcher = ThreadLauncher(store, start_timeout=None)

    def start(
        self,
        flow: str,
        source: str | None = None,
        destination: str | None = None,
        *,
        full: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
        records: list[dict[str, Any]] | None = None,
        trigger: str = "api",
    ) -> RunView:
        """A run of the flow named `flow` (by name only: never a path from a request) between
        these instances, or those of its binding. With `records` the run writes those instead
        of reading the source, as a webhook's run does (kept with the run, so it resumes with
        them); `full` and `limit` are about reading, so they come without `records`."""
        if records is not None:
            for option, given in (("full", full), ("limit", limit is not None)):
                if given:
                    raise ValueError(
                        f"{option}: applies to reading the source, and a run of given records "
                        f"reads none; give records or {option}, not both"
                    )
        if limit is not None and limit < 1:
            raise ValueError(f"limit: expected a whole number >= 1, got {limit}")
        flow_file = find_by_name(flow)
        source, destination = instances_for(self._store, flow_file.flow.name, source, destination)
        launched = self._launcher.start(
            flow_file,
            source,
            destination,
            trigger=trigger,
            records=records,
            full=full,
            dry_run=dry_run,
            limit=limit,
        )
        return self._view(launched.run_id)

    def resume(self, run_id: int) -> RunView:
        """Continue an interrupted or stopped run from its last checkpoint (`running` again
        when this returns)."""
        return self._view(self._launcher.resume(self._store.runs.get(run_id)).run_id)

    def retry(self, run_id: int) -> RunView:
        """A new run of only the records `run_id` failed on, read again from the source."""
        return self._view(self._launcher.retry(self._store.runs.get(run_id)).run_id)

    def join(self, grace: float) -> bool:
        """Wait up to `grace` seconds for every run started here; True if none is left."""
        return self._launcher.join(grace)

    def _view(self, run_id: int) -> RunView:
        return RunView.of(self._store.runs.get(run_id))
