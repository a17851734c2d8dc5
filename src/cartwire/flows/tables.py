"""Where the lookup tables a flow reads come from, settled before a run starts.

A table the user imported (`cartwire lookups import`) is used as it is, whole. Otherwise the
flow file's `lookups:` section says what to use: its `default` entries, overlaid by entries
`derive`d from the destination instance at run start (one per record of an endpoint, the
value at `key` → the value at `value`). A table that ends up with no entries, lacks a key the
flow is known to need (a fixed `value:` looked up, or a key under `required`), or cannot be
derived unambiguously makes the run refuse to start, with one message naming each table and
how to fill it: a run that started would otherwise fail record after record for the same
reason. A key only the data reveals still fails just its records, with the same hint.
"""

from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from cartwire.flows import paths
from cartwire.flows.lookups import CSV_FORMAT, MemoryLookups, fill_hint
from cartwire.flows.problems import FlowError
from cartwire.flows.schema import FieldSpec, Flow, LookupDerive
from cartwire.flows.transforms import Context, TransformError, apply
from cartwire.resources.opened_instance import Opener, Platform
from cartwire.store import Store

Reader = Callable[[LookupDerive], Iterable[dict[str, Any]]]
_UNKNOWABLE = {"python", "template"}  # transforms whose result the flow file alone cannot tell
_NO_RECORD = Context({}, MemoryLookups())


def _counted(entries: Mapping[str, str]) -> str:
    return f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"


@dataclass(frozen=True)
class TableState:
    """One table as a run would use it: its entries, where they came from (`status`:
    imported, derived, default, missing or unchecked), and what is wrong with it, if anything."""

    table: str
    status: str
    entries: dict[str, str]
    source: str  # "imported with `cartwire lookups import`", "derived from X's price_lists", …
    problem: str | None = None  # why a run cannot start with it; None when it can

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def note(self) -> str:
        """The line a run log and the CLI print about the table."""
        if self.problem is not None:
            return self.problem
        if self.status == "unchecked":
            return f"lookup table {self.table}: {self.source}"
        return f"lookup table {self.table}: {_counted(self.entries)} {self.source}"


@dataclass(frozen=True)
class TableCheck:
    """The tables of a flow, or why they could not be looked at (`flows validate`)."""

    tables: list[TableState] = field(default_factory=list)
    unchecked: str | None = None  # why nothing was checked (no store …)


class LookupsMissing(FlowError):
    """A run refused before it started: a lookup table it reads is not ready."""

    def __init__(self, flow: str, tables: list[TableState]) -> None:
        self.tables = tables
        lines = "\n".join(f"- {t.problem}" for t in tables)
        super().__init__(
            f"flow {flow} cannot start: a lookup table it reads is not ready\n{lines}\n"
            f"The CSV file: {CSV_FORMAT}"
        )


def needed_keys(flow: Flow) -> dict[str, set[str]]:
    """The keys each table must have, known from the file alone: those listed under
    `required`, and fixed `value:`s that reach a lookup without a default."""
    needed = {name: set(table.required) for name, table in flow.lookups.items()}
    for spec in flow.field_specs():
        found = _fixed_key(spec) if spec.from_ is None and spec.template is None else None
        if found is not None:
            needed.setdefault(found[0], set()).add(found[1])
    return needed


def _fixed_key(spec: FieldSpec) -> tuple[str, str] | None:
    """(table, key) of the first lookup a fixed value reaches, when it must find its key."""
    value = spec.value if spec.value is not None else spec.default
    for call in spec.transform:
        if value is None or call.kind in _UNKNOWABLE:
            return None
        if call.lookup is not None:
            strict = call.lookup.default is None and call.lookup.missing == "error"
            return (call.lookup.table, paths.text(value)) if strict else None
        try:
            value = apply(call, value, _NO_RECORD)
        except TransformError:
            return None  # every record fails on it, and says why
    return None


def states(
    flow: Flow,
    imported: Mapping[str, dict[str, str]],
    read: Reader | None,
    destination: str | None,
) -> list[TableState]:
    """Each table `flow` reads, from the `imported` tables, the flow's defaults, and entries
    derived through `read` (None: not derived now, as by `flows validate` without a
    destination instance)."""
    needed = needed_keys(flow)
    found = []
    for name in sorted(flow.lookup_tables()):
        state = _state(flow, name, imported.get(name) or {}, read, destination)
        lacking = sorted(needed.get(name, set()) - state.entries.keys())
        if state.ok and state.status != "unchecked" and lacking:
            keys = ", ".join(f'"{k}"' for k in lacking)
            problem = (
                f'lookup table "{name}" has no entry for {keys}, which the flow needs (it has '
                f"{_counted(state.entries)} {state.source}); {fill_hint(name)}"
            )
            state = TableState(name, state.status, state.entries, state.source, problem)
        found.append(state)
    return found


def _state(
    flow: Flow, name: str, imported: dict[str, str], read: Reader | None, destination: str | None
) -> TableState:
    declared = flow.lookups.get(name)
    if imported:
        source = "imported with `cartwire lookups import`"
        if declared is not None and (declared.default or declared.derive):
            source += " (used instead of the flow's own entries)"
        return TableState(name, "imported", imported, source)
    if declared is None or not (declared.default or declared.derive):
        problem = (
            f'lookup table "{name}" is missing: nothing was imported and the flow declares no '
            f"entries for it; {fill_hint(name)}"
        )
        return TableState(name, "missing", {}, "", problem)
    derive, default = declared.derive, dict(declared.default)
    defaults = f"{len(default)} from the flow file's defaults"
    if derive is None:
        return TableState(name, "default", default, "from the flow file's defaults")
    if read is None or destination is None:
        source = f"derived at run start from the destination's {derive.endpoint}"
        source += f", {defaults}" if default else ""
        source += " (give --destination to check now)"
        return TableState(name, "unchecked", default, source)
    where = f"{destination}'s {derive.endpoint}"
    derived, clashes = _derive(read(derive), derive)
    if clashes:
        shown = "; ".join(f'"{key}" → {", ".join(values)}' for key, values in clashes.items())
        problem = (
            f'lookup table "{name}" cannot be derived from {where}: {derive.key} is not unique '
            f"({shown}); choose: {fill_hint(name)}"
        )
        return TableState(name, "derived", {}, f"derived from {where}", problem)
    entries = {**default, **derived}
    source = f"derived from {where}" + (f" ({len(derived)}), {defaults}" if default else "")
    if not entries:
        problem = (
            f'lookup table "{name}" is empty: no record of {where} has both {derive.key} and '
            f"{derive.value}; add them there, or {fill_hint(name)}"
        )
        return TableState(name, "derived", {}, f"derived from {where}", problem)
    return TableState(name, "derived", entries, source)


def _derive(
    records: Iterable[dict[str, Any]], derive: LookupDerive
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`key` → `value` of every record that has both, and the keys found with several values."""
    seen: dict[str, list[str]] = {}
    for record in records:
        key, value = paths.get(record, derive.key), paths.get(record, derive.value)
        if key in (None, "") or value in (None, ""):
            continue
        values = seen.setdefault(paths.text(key), [])
        if paths.text(value) not in values:
            values.append(paths.text(value))
    entries = {key: values[0] for key, values in seen.items() if len(values) == 1}
    return entries, {key: sorted(values) for key, values in seen.items() if len(values) > 1}


def resolve(
    flow: Flow, store: Store, destination: str | None, open_instance: Opener
) -> list[TableState]:
    """The tables as a run between these instances would use them; `destination` None only
    looks at what is imported and declared. Derived entries are read once, from the
    destination instance, and only for tables nobody imported."""
    imported = {name: store.lookup_tables.get(name) for name in flow.lookup_tables()}
    with ExitStack() as stack:
        opened: list[Platform] = []

        def read(derive: LookupDerive) -> Iterable[dict[str, Any]]:
            if not opened:
                assert destination is not None
                opened.append(stack.enter_context(open_instance(destination)))
                flow.check_writes_to(opened[0].connector.name, destination)
            return opened[0].read(derive.endpoint)

        return states(flow, imported, read if destination else None, destination)
