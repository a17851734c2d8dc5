"""Flows as the shells see them: the flow files, their bindings to instances, and starting a
run (`validation` checks a file)."""

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, SkipValidation

from cartwire.flows import preview
from cartwire.flows.catalog import (
    FlowFile,
    FlowNotFound,
    available,
    find,
    find_by_name,
    user_folder,
)
from cartwire.flows.problems import FlowError, FlowInvalid
from cartwire.flows.progress import Progress
from cartwire.flows.runner import FlowRunner
from cartwire.flows.scheduler import next_slot, schedules
from cartwire.flows.schema import Flow
from cartwire.flows.validation import load_flow
from cartwire.services.clients import opener
from cartwire.services.runs import DryRunChanges, RunView
from cartwire.services.validation import FlowValidation, validate_flow_text
from cartwire.store import Store
from cartwire.store.bindings import Binding


class BindingView(BaseModel):
    """Which instances a flow runs between by default, and whether triggers may start it."""

    flow: str
    source: str
    destination: str
    enabled: bool

    @classmethod
    def of(cls, binding: Binding) -> "BindingView":
        return cls(**binding.__dict__)


class FlowSummary(BaseModel):
    name: str
    origin: str  # "prebuilt", "user" or the file path
    description: str
    binding: BindingView | None


class FlowDetail(BaseModel):
    """A flow file as cartwire understood it, and its text as written."""

    origin: str
    text: str
    flow: SkipValidation[Flow]  # checked as the file loaded: checking again would refuse its
    # normalized form (a `destination` already turned into `outputs`)


class PreparedRun:
    """A flow bound to its two instances, ready to run: what it will tell before it starts
    (lookup tables, a changed mapping) and the run itself."""

    def __init__(self, store: Store, flow_file: FlowFile, source: str, destination: str) -> None:
        self._store = store
        self.flow = flow_file.flow.name
        self._runner = FlowRunner(
            store,
            flow_file.flow,
            flow_file.text,
            source,
            destination,
            open=opener(store),
        )

    def lookup_notes(self) -> list[str]:
        """A line per lookup table the run reads; raises `LookupsMissing` if one is not ready."""
        return [table.note for table in self._runner.lookup_tables()]

    def mapping_change(self) -> str | None:
        """Why a run that is not `--full` will still run in full, if it will."""
        return self._runner.mapping_change()

    def run(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        limit: int | None = None,
    ) -> RunView:
        """Raises `RunInterrupted` on Ctrl-C (the run is left resumable)."""
        return RunView.of(
            self._runner.run(full=full, dry_run=dry_run, progress=progress, limit=limit)
        )

    def changes(self, run: RunView) -> DryRunChanges | None:
        if not run.dry_run:
            return None
        return DryRunChanges.of(*preview.kept(self._store, self._store.runs.get(run.id)))


def _write_atomically(target: Path, text: str) -> None:
    """Readers (a scheduler, a run starting) see the old file or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FlowService:
    def __init__(self, store: Callable[[], Store]) -> None:
        """`store` opens the store when first called: validating a file without lookup tables
        needs none."""
        self._open_store = store

    @property
    def _store(self) -> Store:
        return self._open_store()

    def all(self) -> list[FlowSummary]:
        """Prebuilt and user flows, with their default bindings."""
        flows = available()
        bindings = {b.flow: b for b in self._store.bindings.all()}
        return [
            FlowSummary(
                name=name,
                origin=flow_file.origin,
                description=flow_file.flow.description,
                binding=BindingView.of(bindings[name]) if name in bindings else None,
            )
            for name, flow_file in flows.items()
        ]

    def get(self, name_or_path: str) -> FlowDetail:
        flow_file = find(name_or_path)
        return FlowDetail(origin=flow_file.origin, text=flow_file.text, flow=flow_file.flow)

    def get_by_name(self, name: str) -> FlowDetail:
        """A flow by name only (for names from a request: never read as a path)."""
        flow_file = find_by_name(name)
        return FlowDetail(origin=flow_file.origin, text=flow_file.text, flow=flow_file.flow)

    def validate_text(self, text: str, destination: str | None = None) -> FlowValidation:
        return validate_flow_text(text, destination, self._open_store)

    def save(self, name: str, text: str, *, replace: bool = False) -> FlowDetail:
        """Store a user flow file `name` (`$CARTWIRE_HOME/flows/NAME.yaml`), validated first:
        nothing is written for a file with problems, or whose `name:` is not `name`. A user
        flow of a prebuilt flow's name overrides it, as a file put there by hand does."""
        checked = self.validate_text(text)
        if not checked.valid:
            raise FlowInvalid(checked.problems)
        flow = load_flow(text if text.endswith("\n") else text + "\n")
        if flow.name != name:
            raise FlowError(
                f"the file is the flow {flow.name!r}, not {name!r}: make `name:` {name}"
            )
        target = user_folder() / f"{name}.yaml"
        if target.exists() and not replace:
            raise FlowError(f"a user flow {name!r} exists already; update it instead (PUT)")
        _write_atomically(target, text)
        return self.get_by_name(name)

    def delete(self, name: str) -> None:
        """Remove a user flow file; a prebuilt flow cannot be (a user flow of its name can)."""
        target = user_folder() / f"{name}.yaml"
        if not target.is_file():
            find_by_name(name)  # FlowNotFound for a name nobody knows
            raise FlowError(f"{name!r} is a prebuilt flow: it can be overridden, not deleted")
        target.unlink()

    def next_run(self, name: str) -> datetime | None:
        """When the scheduler next starts the flow: None unless it is bound, enabled and has
        schedule triggers."""
        binding = self._store.bindings.get(name)
        if binding is None or not binding.enabled:
            return None
        return next_slot(schedules(find_by_name(name).flow), datetime.now(UTC))

    def enable(
        self, flow: str, source: str | None = None, destination: str | None = None
    ) -> BindingView:
        """Save the default binding, enabled: `flows run` and the triggers need no names.
        Without names, the saved binding is enabled again."""
        flow_file = find(flow)
        if source is None or destination is None:
            saved = self._store.bindings.get(flow_file.flow.name)
            if saved is None:
                raise FlowError(f"flow {flow!r} has no binding: give a source and a destination")
            source, destination = source or saved.source, destination or saved.destination
        for name in (source, destination):
            self._store.instances.get(name)
        return BindingView.of(self._store.bindings.bind(flow_file.flow.name, source, destination))

    def disable(self, flow: str) -> BindingView:
        """Keep the binding but stop the scheduler and webhooks from running the flow."""
        binding = self._store.bindings.get(flow)
        if binding is None:
            raise FlowNotFound(f"flow {flow!r} has no binding")
        return BindingView.of(
            self._store.bindings.bind(flow, binding.source, binding.destination, enabled=False)
        )

    def prepare_run(
        self, flow: str, source: str | None = None, destination: str | None = None
    ) -> PreparedRun:
        """The flow (a name or a file) between these instances, or those of its binding."""
        flow_file = find(flow)
        binding = self._store.bindings.get(flow_file.flow.name)
        source = source or (binding.source if binding else None)
        destination = destination or (binding.destination if binding else None)
        if not source or not destination:
            raise FlowError(
                f"flow {flow_file.flow.name!r} has no instances bound: give --source and "
                f"--destination, or save a default with `cartwire flows enable "
                f"{flow_file.flow.name} --source NAME --destination NAME`"
            )
        return PreparedRun(self._store, flow_file, source, destination)
