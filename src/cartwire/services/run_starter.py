"""Runs a long-lived process (the HTTP server) starts and does not wait for: run now, resume,
retry. Each runs in a thread of this process (`ThreadLauncher`); the caller is answered once
the run is recorded, with its id to follow."""

from typing import Any

from cartwire.flows.catalog import find_by_name
from cartwire.flows.problems import FlowError
from cartwire.services.launcher import ThreadLauncher
from cartwire.services.runs import RunView
from cartwire.store import Store
from cartwire.store.bindings import Binding


class RunStarter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._launcher = ThreadLauncher(store)

    def _view(self, run_id: int) -> RunView:
        return RunView.of(self._store.runs.get(run_id))

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
    ) -> RunView:
        """The flow (by name only: never a path from a request) between these instances or
        its binding's; with `records` a run over them (trigger `payload`), else a read (`api`)."""
        flow_file = find_by_name(flow)
        name = flow_file.flow.name
        bound = self._store.bindings.get(name)
        source = source or (bound.source if bound else None)
        destination = destination or (bound.destination if bound else None)
        if not source or not destination:
            raise FlowError(
                f"flow {name!r} has no instances bound: give source and destination, or bind "
                f"it first (`cartwire flows enable {name} --source NAME --destination NAME`)"
            )
        for instance in (source, destination):
            self._store.instances.get(instance)
        binding = Binding(name, source, destination, enabled=True)
        launched = self._launcher(
            flow_file,
            binding,
            trigger="api" if records is None else "payload",
            records=records,
            full=full,
            dry_run=dry_run,
            limit=limit,
        )
        return self._view(launched.run_id)

    def resume(self, run_id: int) -> RunView:
        """Continue an interrupted or stopped run from its last checkpoint."""
        return self._view(self._launcher.resume(self._store.runs.get(run_id)).run_id)

    def retry(self, run_id: int) -> RunView:
        """A new run of only the records `run_id` failed on."""
        return self._view(self._launcher.retry(self._store.runs.get(run_id)).run_id)

    def join(self, grace: float) -> bool:
        """Wait up to `grace` seconds for the runs started here; True if none is left."""
        return self._launcher.join(grace)
