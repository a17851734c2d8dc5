"""Processing one source record into the records each output writes.

`process(flow, record, lookups)` applies the flow's shared steps, then each output's own steps,
and returns, per output name, one entry for every record that came out: an `OutputRecord` to
write, a `Skipped` (filtered out, or a split found nothing), or a `RecordError`. Every output
gets at least one entry per source record, so a runner can count read, skipped and failed
records without knowing the steps. A record that failed in the shared steps appears, as the
same error, in every output.

It is a pure function of its arguments (only `python:` transforms can do anything else): no I/O,
the source record is never changed, and output records share no objects with it or with each
other, so the runner may hold, batch and mutate them freely.
"""

import copy
from typing import Any

from cartwire.connectors.schema import key_fields
from cartwire.flows import paths, steps
from cartwire.flows.lookups import LookupTables
from cartwire.flows.problems import location
from cartwire.flows.results import OutputRecord, RecordError, Result
from cartwire.flows.schema import Flow, Output


def process(flow: Flow, record: dict[str, Any], lookups: LookupTables) -> dict[str, list[Result]]:
    shared = steps.run(flow.steps, record, ("steps",), lookups)
    results: dict[str, list[Result]] = {}
    for index, output in enumerate(flow.outputs):
        entries: list[Result] = []
        for item in shared:
            if not isinstance(item, dict):
                entries.append(item)
                continue
            for done in steps.run(output.steps, item, ("outputs", index, "steps"), lookups):
                entries.append(
                    _finish(flow, index, output, done) if isinstance(done, dict) else done
                )
        results[output.name] = entries
    return results


def _finish(flow: Flow, index: int, output: Output, record: dict[str, Any]) -> Result:
    """The record, copied, with its key; an error when a destination that matches by key gets a
    record without one (it could only be created again and again)."""
    destination = output.destination
    if destination.key is None:
        return OutputRecord(copy.deepcopy(record), None)
    fields = key_fields(destination.key)
    first = paths.get(record, fields[0])
    if first in (None, "") and destination.mode != "create-only":
        at = location((*flow.destination_place(index), "key"))
        reason = f'the key field "{fields[0]}" is empty; {destination.mode} matches by it'
        return RecordError(at, reason, fields[0], value=first)
    return OutputRecord(copy.deepcopy(record), _label(record, fields))


def _label(record: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """The key as a person reads it (`SKU-1/eu-warehouse`, as the writers label results): a
    reference by its key or id, absent parts left out."""
    parts = []
    for field in fields:
        value = paths.get(record, field)
        if isinstance(value, dict):
            value = value.get("key") or value.get("id")
        if value is not None:
            parts.append(paths.text(value))
    return "/".join(parts) or None
