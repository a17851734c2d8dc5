"""Runs a long-lived process (the HTTP server) starts without waiting for them to end: a new
run, a resume, a retry, each in a thread of this process (`ThreadLauncher`), or queued for the
Celery workers when a broker is configured (`dispatch`).

Each call returns once the run is recorded, with its id to follow, or raises why it could not
start, exactly as the CLI would have: `RunBusy` while the binding has a run going,
`InstanceNotFound`, `FlowError` (`LookupsMissing` among them) and so on. It waits for that
however long it takes (no start timeout), so the caller is never left with a run that may or may
not have started.
"""

from typing import Any

from cartwire.flows.catalog import find_by_name
from cartwire.refusals import FieldRefused
from cartwire.services.dispatch import Dispatcher, dispatcher_for
from cartwire.services.flows import instances_for
from cartwire.services.runs import RunView
from cartwire.store import Store


class RunStarter:
    """One per long-lived process (the HTTP server): starts runs through the deployment's
    dispatcher (this process's threads, or the workers) and returns once the run is recorded."""

    def __init__(self, store: Store, dispatcher: Dispatcher | None = None) -> None:
        self._store = store
        self._dispatcher = dispatcher or dispatcher_for(store)

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
                    raise FieldRefused(
                        option,
                        "applies to reading the source, and a run of given records reads none; "
                        f"give records or {option}, not both",
                    )
        if limit is not None and limit < 1:
            raise FieldRefused("limit", f"expected a whole number >= 1, got {limit}")
        flow_file = find_by_name(flow)
        source, destination = instances_for(self._store, flow_file.flow.name, source, destination)
        run_id = self._dispatcher.start(
            flow_file,
            source,
            destination,
            trigger=trigger,
            records=records,
            full=full,
            dry_run=dry_run,
            limit=limit,
        )
        return self._view(run_id)

    def resume(self, run_id: int) -> RunView:
        """Continue an interrupted or stopped run from its last checkpoint (`running` again
        when this returns, or `queued` for the workers)."""
        return self._view(self._dispatcher.resume(self._store.runs.get(run_id)))

    def retry(self, run_id: int) -> RunView:
        """A new run of only the records `run_id` failed on, read again from the source."""
        return self._view(self._dispatcher.retry(self._store.runs.get(run_id)))

    def join(self, grace: float) -> bool:
        """Wait up to `grace` seconds for every run started here; True if none is left."""
        return self._dispatcher.join(grace)

    def _view(self, run_id: int) -> RunView:
        return RunView.of(self._store.runs.get(run_id))
