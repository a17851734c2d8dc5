"""Flows: a YAML file that says what to read, how to reshape each record, and where to write it.

This package is the flow file and the record processing, pure and without I/O; the runner
(reading pages, writing batches, checkpoints, run records) is built on this API:

Loading
    `load_flow(path_or_text, registry=None) -> Flow` raises `FlowInvalid` (`.problems`);
    `validate(path_or_text, registry=None) -> list[Problem]` reports every problem, each
    `Problem(path, message, line)` printing as `steps[2].map.fields.price.transform[0]: unknown
    transform "centz"; did you mean "cents"?`. A `str` with a line break is YAML text, any other
    `str` or a `Path` is a file. `registry` (name → `Connector`, default: `connectors()`) is what
    connectors, endpoints, filter keys and natural keys are checked against.
    `validation.check_text(text)` is both at once, for text that must never be read as a path
    (a file posted to the HTTP API).

The flow (`schema`)
    `Flow.name`, `.version`, `.triggers` (each `.manual`, `.schedule` (cron, UTC) or `.webhook`),
    `.source` (`connector`, `endpoint`, `filters: dict[str, list[str]]`, `incremental`),
    `.steps` (shared), `.outputs` (always a list, each `name`, `steps`, `destination` with
    `connector`, `endpoint`, `mode`, `key` (the endpoint's natural key when the file gives
    none)), `.settings` (`batch_size`, `concurrency`, `retries_per_record`, `on_record_error`).
    `flow.batch_size(output)` is the write batch size of an output (batch step or settings);
    `flow.lookup_tables()` names the lookup tables the transforms read; `.lookups` (table →
    `default`, `derive: {endpoint, key, value}`, `required`) says where their entries come
    from when nobody imported them.

Processing
    `process(flow, record, lookups) -> dict[output name, list[OutputRecord | Skipped |
    RecordError]]` takes ONE source record through the shared steps and then each output's
    steps. `OutputRecord(record, key)` is ready to write; `Skipped(at, reason)` was filtered out
    (or a split found nothing); `RecordError(at, reason, field, transform, value)` failed, and
    only that record fails. Deterministic and side-effect free, except `python:` transforms.

Lookup tables (`lookups`)
    `LookupTables` protocol (`get(table, key) -> str | None`), `MemoryLookups`, and
    `read_csv(file) -> dict[str, str]` / `write_csv(rows, file)` for `source,target` CSV files
    (`LookupCsvError` lists every bad line). `tables.resolve(flow, store, destination)`
    settles the tables a run uses (imported, defaults, derived from the destination) and
    what keeps one from being ready; the runner refuses to start with `LookupsMissing`.
"""

from cartwire.flows.lookups import LookupCsvError, LookupTables, MemoryLookups, read_csv, write_csv
from cartwire.flows.problems import FlowInvalid, Problem
from cartwire.flows.process import process
from cartwire.flows.results import OutputRecord, RecordError, Result, Skipped
from cartwire.flows.schema import Destination, Flow, Output, Settings, Source, Step, Trigger
from cartwire.flows.validation import load_flow, validate

__all__ = [
    "Destination",
    "Flow",
    "FlowInvalid",
    "LookupCsvError",
    "LookupTables",
    "MemoryLookups",
    "Output",
    "OutputRecord",
    "Problem",
    "RecordError",
    "Result",
    "Settings",
    "Skipped",
    "Source",
    "Step",
    "Trigger",
    "load_flow",
    "process",
    "read_csv",
    "validate",
    "write_csv",
]
