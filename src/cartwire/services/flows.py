"""Flows as the shells see them: the flow files (listed, read, validated, saved and deleted),
their bindings to instances, their next scheduled run, and starting a run (`validation` checks
a file)."""

import os
import re
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
from cartwire.flows.problems import FlowError, FlowInvalid, Problem
from cartwire.flows.progress import Progress
from cartwire.flows.runner import FlowRunner
from cartwire.flows.scheduler import next_slot, schedules
from cartwire.flows.schema import FLOW_NAME, FLOW_NAME_RULE, Flow
from cartwire.flows.validation import check_text
from cartwire.services.clients import opener
from cartwire.services.dispatch import queue_of
from cartwire.services.runs import DryRunChanges, RunView
from cartwire.services.validation import FlowValidation, validate_text
from cartwire.store import Store
from cartwire.store.bindings import Binding


class FlowInUse(FlowError):
    """A flow file that cannot be deleted now: a run of the flow is going."""

    def __init__(self, name: str, run_ids: list[int]) -> None:
        self.run_ids = run_ids
        runs = ", ".join(map(str, run_ids))
        super().__init__(
            f"flow {name!r} has a run going (run {runs}); wait for it or stop it "
            f"(`cartwire runs stop {run_ids[0]}`), then delete the flow"
        )


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
    """A flow as a list shows it: what may start it (`triggers`: "manual", "schedule <cron>",
    "webhook <kind>"), the connectors it reads and writes (so a shell can offer only fitting
    instances to bind), and its default binding."""

    name: str
    origin: str  # "prebuilt", "user" or the file path
    description: str
    triggers: list[str]
    source_connector: str
    destination_connectors: list[str]  # of its outputs, each once, in the file's order
    binding: BindingView | None


def _triggers(flow: Flow) -> list[str]:
    return [
        f"schedule {t.schedule}"
        if t.schedule is not None
        else f"webhook {t.webhook.kind}"
        if t.webhook is not None
        else "manual"
        for t in flow.triggers
    ]


class FlowDetail(BaseModel):
    """A flow file as cartwire understood it, and its text as written."""

    origin: str
    text: str
    # Checked as the file loaded; checking the loaded flow again would refuse its normal form
    # (a top-level `destination` is already `outputs[0]`).
    flow: SkipValidation[Flow]

    @classmethod
    def of(cls, flow_file: FlowFile) -> "FlowDetail":
        return cls(origin=flow_file.origin, text=flow_file.text, flow=flow_file.flow)


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

    def enqueue(
        self, *, full: bool = False, dry_run: bool = False, limit: int | None = None
    ) -> RunView:
        """The run recorded `queued` and its first slice sent to the workers, rather than run
        here: `NoBroker` when no broker is configured (before anything is recorded)."""
        queue = queue_of(self._store)
        run = self._runner.queue(full=full, dry_run=dry_run, limit=limit)
        return RunView.of(self._store.runs.get(queue.queued(run)))

    def changes(self, run: RunView) -> DryRunChanges | None:
        if not run.dry_run:
            return None
        return DryRunChanges.of(*preview.kept(self._store, self._store.runs.get(run.id)))


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
                triggers=_triggers(flow_file.flow),
                source_connector=flow_file.flow.source.connector,
                destination_connectors=list(
                    dict.fromkeys(out.destination.connector for out in flow_file.flow.outputs)
                ),
                binding=BindingView.of(bindings[name]) if name in bindings else None,
            )
            for name, flow_file in flows.items()
        ]

    def get(self, name_or_path: str) -> FlowDetail:
        return FlowDetail.of(find(name_or_path))

    def get_by_name(self, name: str) -> FlowDetail:
        """A flow by name only, never read as a path: for names from a request."""
        return FlowDetail.of(find_by_name(name))

    def validate_text(self, text: str, destination: str | None = None) -> FlowValidation:
        """As `Services.validate_flow` checks a file: its problems, then its lookup tables."""
        return validate_text(text, destination, self._open_store)

    def save(self, name: str, text: str, *, replace: bool = False) -> FlowDetail:
        """Write the user flow `name` ($CARTWIRE_HOME/flows/NAME.yaml), checked first: nothing
        is written for a file with problems (`FlowInvalid`) or whose `name:` is not `name`.
        A new name only, unless `replace`. A prebuilt flow's name may be taken: the user flow
        overrides it, as a file put there by hand does."""
        target = _user_file(name)
        flow, problems = check_text(text)
        if flow is None:
            raise FlowInvalid(problems)
        if flow.name != name:
            raise FlowError(
                f"the file's name: is {flow.name!r} but it is saved as {name!r}; "
                f"make them the same (name: {name})"
            )
        try:
            _write_atomically(target, text, replace=replace)
        except FileExistsError:
            message = f"a user flow {name!r} exists already; use update to replace it"
            raise FlowError(message) from None
        return FlowDetail(origin="user", text=text, flow=flow)

    def delete(self, name: str) -> None:
        """Delete the user flow `name` (a prebuilt one of that name, if any, is in force
        again). Prebuilt flows cannot be deleted, and no flow while a run of it is going. A
        flow gone altogether takes its binding along, so no trigger tries to start it."""
        target = _user_file(name)
        if not target.is_file():
            find_by_name(name)  # `FlowNotFound` when there is no flow of that name at all
            raise FlowError(f"{name!r} is a prebuilt flow: it can be overridden, not deleted")
        active = self._store.runs.active(name)
        if active:
            raise FlowInUse(name, [run.id for run in active])
        target.unlink()
        try:
            find_by_name(name)
        except FlowNotFound:
            self._store.bindings.unbind(name)

    def next_run(self, name: str) -> datetime | None:
        """When the scheduler next starts the flow (UTC): None unless its binding is enabled
        and it has `schedule` triggers."""
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
        source, destination = instances_for(self._store, flow_file.flow.name, source, destination)
        return PreparedRun(self._store, flow_file, source, destination)


def instances_for(
    store: Store, flow: str, source: str | None, destination: str | None
) -> tuple[str, str]:
    """(source, destination) of a run of `flow`: those given, else its binding's."""
    binding = store.bindings.get(flow)
    source = source or (binding.source if binding else None)
    destination = destination or (binding.destination if binding else None)
    if not source or not destination:
        raise FlowError(
            f"flow {flow!r} has no instances bound: give --source and --destination, or save a "
            f"default with `cartwire flows enable {flow} --source NAME --destination NAME`"
        )
    return source, destination


def _user_file(name: str) -> Path:
    """The path of the user flow `name`; a name that is no flow name never becomes a path."""
    if not re.fullmatch(FLOW_NAME, name):
        raise FlowInvalid([Problem("name", f'"{name}": {FLOW_NAME_RULE}')])
    return user_folder() / f"{name}.yaml"


def _write_atomically(target: Path, text: str, *, replace: bool) -> None:
    """Write a whole temporary file, then put it in place: readers (the scheduler, a run
    starting) see the old file or the new one, never half of either. The temporary file is
    unique (two saves at once never write into one), and without `replace` it is linked into
    place, which raises `FileExistsError` if the file exists, even if it appeared meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
