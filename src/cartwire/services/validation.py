"""Checking a flow file, or its text: its problems, then whether the lookup tables it reads
are ready.

Light to import: a file with problems, or without lookup tables, is checked without the store
or the HTTP stack, which are loaded only to look at (or derive) its tables.
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cartwire.flows import Problem
from cartwire.flows.schema import Flow
from cartwire.flows.validation import check_text

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
    return validate_text(file.read_text(encoding="utf-8"), destination, store)


def validate_text(
    text: str, destination: str | None, store: "Callable[[], Store]"
) -> FlowValidation:
    """`validate_file` of a flow file's text (posted to the HTTP API): never read as a path."""
    flow, problems = check_text(text)
    if flow is None:
        return FlowValidation(problems=problems, lookups=None)
    return FlowValidation(problems=[], lookups=_lookups(flow, destination, store))


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
