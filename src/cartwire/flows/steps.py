"""Applying steps to records: map, filter, split/flatten (batch only matters to the runner).

`run` takes one record through a list of steps and returns what comes out: records still going
(mappings), and records that stopped (`Skipped` by a filter or an empty split, or a
`RecordError`). A failure stops only the record it happened to, never its siblings from the same
split or the run. Locations in errors are places in the flow file (`steps[1].filter`).
"""

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

from cartwire.flows import paths
from cartwire.flows.lookups import LookupTables
from cartwire.flows.problems import location
from cartwire.flows.results import RecordError, Skipped
from cartwire.flows.schema import Condition, EachSpec, FieldSpec, SplitStep, Step
from cartwire.flows.transforms import Context, TransformError, apply

Place = tuple[str | int, ...]
Item = dict[str, Any] | Skipped | RecordError


class Failed(Exception):
    """Raised inside a step to fail the record in hand."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(str(error))
        self.error = error


def run(
    steps: Sequence[Step], record: dict[str, Any], place: Place, lookups: LookupTables
) -> list[Item]:
    """`record` through `steps` (numbered from `place`, e.g. `("steps",)`), in order."""
    items: list[Item] = [record]
    for index, step in enumerate(steps):
        where = (*place, index, step.kind)
        after: list[Item] = []
        for item in items:
            if not isinstance(item, dict):
                after.append(item)
                continue
            try:
                after.extend(_apply(step, item, where, lookups))
            except Failed as failed:
                after.append(failed.error)
        items = after
    return items


def _apply(step: Step, record: dict[str, Any], where: Place, lookups: LookupTables) -> list[Item]:
    if step.map is not None:
        return [map_fields(step.map.fields, record, where, lookups)]
    if step.filter is not None:
        if matches(step.filter, record, where):
            return [record]
        return [Skipped(location(where), f"filtered out: {describe(step.filter)} is false")]
    split = step.split or step.flatten
    if split is not None:
        records: list[Item] = [*split_record(split, record, where)]
        if records:
            return records
        return [Skipped(location(where), f"nothing at {', '.join(split.paths)}")]
    return [record]  # batch


# --- map -------------------------------------------------------------------------------------


def map_fields(
    fields: dict[str, FieldSpec],
    record: Any,
    where: Place,
    lookups: LookupTables,
    label: str = "",
) -> dict[str, Any]:
    """A new record with each target field's value (values are shared with `record`, not copied;
    `process` copies the finished record)."""
    result: dict[str, Any] = {}
    for target, spec in fields.items():
        at = (*where, "fields", target)
        value = field_value(spec, record, at, lookups, label + target)
        names = paths.parse_target(target)
        if spec.replace and len(names) == 1 and not isinstance(value, dict | None):
            reason = f"replace: true needs an object to replace with, got {type(value).__name__}"
            raise Failed(
                RecordError(location((*at, "replace")), reason, label + target, value=value)
            )
        paths.put(result, names, value)
    return result


def field_value(
    spec: FieldSpec, record: Any, where: Place, lookups: LookupTables, label: str
) -> Any:
    if spec.from_ is not None:
        value = paths.get(record, spec.from_)
    elif spec.template is not None:
        value = paths.render(spec.template, record)
    else:
        value = spec.value
    if value is None:
        value = spec.default
    if spec.each is not None:
        value = _each(spec.each, value, record, (*where, "each"), lookups, label)
    context = Context(record, lookups)
    for index, call in enumerate(spec.transform):
        try:
            value = apply(call, value, context)
        except TransformError as exc:
            at = location((*where, "transform", index))
            raise Failed(RecordError(at, str(exc), label, call.kind, value)) from None
    if value is None and spec.required:
        raise Failed(RecordError(location(where), "required, but absent", label))
    return value


def _each(
    spec: EachSpec, items: Any, record: Any, where: Place, lookups: LookupTables, label: str
) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    if not isinstance(items, list):
        raise Failed(RecordError(location(where), "each needs a list", label, value=items))
    mapped = []
    for index, item in enumerate(items):
        if spec.as_ is not None:
            scope = {**record, spec.as_: item} if isinstance(record, dict) else {spec.as_: item}
        elif isinstance(item, dict):
            scope = item
        else:
            reason = "each without as needs mappings in the list"
            raise Failed(RecordError(location(where), reason, f"{label}[{index}]", value=item))
        if spec.where is None or matches(spec.where, scope, (*where, "where")):
            mapped.append(map_fields(spec.fields, scope, where, lookups, f"{label}[{index}]."))
    return mapped


# --- filter ----------------------------------------------------------------------------------


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """An ordering op: False for an absent value; an error for values that do not compare."""

    def check(value: Any, wanted: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bool) or isinstance(value, str) != isinstance(wanted, str):
            raise TypeError
        return compare(value, wanted)

    return check


def _search(value: Any, pattern: Any) -> bool:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return False
    return re.search(pattern, str(value)) is not None


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda value, wanted: value in wanted,
    "not_in": lambda value, wanted: value not in wanted,
    "gt": _compare(operator.gt),
    "gte": _compare(operator.ge),
    "lt": _compare(operator.lt),
    "lte": _compare(operator.le),
    "exists": lambda value, _: value is not None,
    "missing": lambda value, _: value is None,
    "matches": _search,
}


def matches(condition: Condition, record: Any, where: Place) -> bool:
    if condition.all is not None:
        return all(matches(c, record, where) for c in condition.all)
    if condition.any is not None:
        return any(matches(c, record, where) for c in condition.any)
    if condition.not_ is not None:
        return not matches(condition.not_, record, where)
    assert condition.field is not None and condition.op is not None  # schema guarantees
    value = paths.get(record, condition.field)
    try:
        return _OPS[condition.op](value, condition.value)
    except TypeError:
        reason = f"cannot compare {_type(value)} with {_type(condition.value)} ({condition.op})"
        raise Failed(RecordError(location(where), reason, condition.field, value=value)) from None


def _type(value: Any) -> str:
    return type(value).__name__


def describe(condition: Condition) -> str:
    """The condition as a line of text, for the reason a record was filtered out."""
    if condition.all is not None:
        return "(" + " and ".join(describe(c) for c in condition.all) + ")"
    if condition.any is not None:
        return "(" + " or ".join(describe(c) for c in condition.any) + ")"
    if condition.not_ is not None:
        return f"not {describe(condition.not_)}"
    if condition.op in ("exists", "missing"):
        return f"{condition.field} {condition.op}"
    return f"{condition.field} {condition.op} {condition.value!r}"


# --- split -----------------------------------------------------------------------------------


def split_record(step: SplitStep, record: dict[str, Any], where: Place) -> list[dict[str, Any]]:
    """One record per item at the step's paths, shaped as `schema.SplitStep` describes."""
    items: list[Any] = []
    for path in step.paths:
        found = paths.get(record, path)
        if found is not None:
            items.extend(found if isinstance(found, list) else [found])
    records = []
    for item in items:
        if step.as_ is not None:
            base = {step.parent: record} if step.parent is not None else dict(record)
            records.append({**base, step.as_: item})
        elif not isinstance(item, dict):
            reason = "split without as needs mappings at its paths"
            raise Failed(RecordError(location(where), reason, value=item))
        else:
            records.append({**item, step.parent: record} if step.parent is not None else item)
    return records
