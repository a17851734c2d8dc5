"""Checking a flow file: its problems, then whether the lookup tables it reads are ready.

Light to import: a file with problems, or without lookup tables, is checked without the store
or the HTTP stack, which are loaded only to look at (or derive) its tables.
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cartwire.flows import Problem, load_flow, validate
from cartwire.flows.schema import Flow
from cartwire.flows.validation import validate_text

if TYPE_CHECKING:
    from cartwire.flows.tables import TableState
    from cartwire.store import Store


class TableView(BaseModel):
    """A lookup table as a run would use it."""

    table: str
    status: str  # imported, derived, default, missing or unchecked
    entries: int
    source: str
    ok: bool
    message: str

    @classmethod
    def of(cls, state: "TableState") -> "TableView":
        return cls(
            table=state.table,
            status=state.status,
            entries=len(state.entries),
            source=state.source,
            ok=state.ok,
            message=state.note,
        )


class LookupCheck(BaseModel):
    """The lookup tables of a flow, or why they could not be looked at (`unchecked`)."""

    tables: list[TableView] = []
    unchecked: str | None = None


class FlowValidation(BaseModel):
    """A flow file's problems; its lookup tables only when it has none."""

    problems: list[Problem]
    lookups: LookupCheck | None

    @property
    def valid(self) -> bool:
        return not self.problems


def validate_file(
    file: Path, destination: str | None, store: "Callable[[], Store]"
) -> FlowValidation:
    """Every problem of the file; when it has none, whether the lookup tables it reads are
    ready, derived from `destination` (default: the flow's bound destination). `store` opens
    the store, only when there are tables to look at."""
    return _checked(file.read_text(encoding="utf-8"), validate(file), destination, store)


def validate_flow_text(
    text: str, destination: str | None, store: "Callable[[], Store]"
) -> FlowValidation:
    """`validate_file` of a flow file's text (posted to the HTTP API). Ended by a line break,
    as a file is, so that `load_flow` never takes a one-line text for a path."""
    text = text if text.endswith("\n") else text + "\n"
    return _checked(text, validate_text(text), destination, store)


def _checked(
    text: str, problems: list[Problem], destination: str | None, store: "Callable[[], Store]"
) -> FlowValidation:
    if problems:
        return FlowValidation(problems=problems, lookups=None)
    return FlowValidation(problems=[], lookups=_lookups(load_flow(text), destination, store))


def _lookups(flow: Flow, destination: str | None, open_store: "Callable[[], Store]") -> LookupCheck:
    if not flow.lookup_tables():
        return LookupCheck()
    from cartwire.flows.tables import resolve
    from cartwire.services.clients import opener
    from cartwire.store import StoreError

    try:
        store = open_store()
    except StoreError as exc:
        return LookupCheck(unchecked=f"the cartwire store could not be opened ({exc})")
    binding = store.bindings.get(flow.name)
    target = destination or (binding.destination if binding else None)
    tables = resolve(flow, store, target, opener(store))
    return LookupCheck(tables=[TableView.of(table) for table in tables])
