"""What a dry run would do, record by record: kept with the run, shown as text or JSON.

A writer's dry-run result says what it would do to a record; an update carries the changes the
writer's own comparison found (`WriteResult.changes`), so what is shown is what a run would send.
A create shows the record as the flow mapped it. A field named like a secret is left out of
both, as of every record the store keeps (`cartwire.store.payloads`).
"""

import json
from typing import Any

from cartwire.resources.writer import Change, WriteResult
from cartwire.store import Store
from cartwire.store.payloads import secret_named
from cartwire.store.planned_writes import PlannedWrite
from cartwire.store.runs import Run

VERBS = {"create": "would create", "update": "would update"}


def planned(
    output: str, result: WriteResult, record: dict[str, Any] | None = None
) -> PlannedWrite | None:
    """The write a dry-run `result` stands for; None when it would write nothing."""
    if result.outcome == "created":
        return PlannedWrite(output, result.key, "create", record)
    if result.outcome == "updated":
        fields = [
            {"field": c.field, "old": c.old, "new": c.new}
            for c in result.changes or ()
            if not _secret(c)
        ]
        return PlannedWrite(output, result.key, "update", changes=fields)
    return None


def _secret(change: Change) -> bool:
    """A change to a field named like a secret: a path (`custom.fields.apiToken`) with such a
    segment, or an action on one (`setAttribute sku=A-1 name=apiToken`; not the sku)."""
    head, *targets = change.field.split(" ")
    named = [
        value for target in targets for key, _, value in [target.partition("=")] if key == "name"
    ]
    return any(secret_named(part) for part in [*head.split("."), *named])


def entries(writes: list[PlannedWrite]) -> list[dict[str, Any]]:
    """The `--json` shape: one entry per created record, one per field an update changes."""
    found: list[dict[str, Any]] = []
    for write in writes:
        head = {"key": write.key, "output": write.output, "action": write.action}
        if write.action == "create":
            found.append({**head, "record": write.record})
        else:  # (a writer that does not tell its fields: one entry without them)
            unknown = {"field": None, "old": None, "new": None}
            found += [{**head, **change} for change in write.changes] or [{**head, **unknown}]
    return found


def lines(write: PlannedWrite) -> list[str]:
    """`would update skus SKU-1` and a line per changed field (`  name: "A" → "B"`), or
    `would create skus SKU-2: {…}` with the mapped record."""
    head = f"{VERBS.get(write.action, write.action)} {write.output} {write.key or '(no key)'}"
    if write.action == "create":
        return [f"{head}: {_value(write.record)}" if write.record is not None else head]
    return [
        head,
        *(f"    {c['field']}: {_value(c['old'])} → {_value(c['new'])}" for c in write.changes),
    ]


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def kept(store: Store, run: Run) -> tuple[list[PlannedWrite], int]:
    """A dry run's planned writes as stored, and how many more records it would have changed
    (past what a run keeps, `planned_writes.KEPT_CHANGES`)."""
    writes = store.planned_writes.of(run.id)
    would = run.counts.get("created", 0) + run.counts.get("updated", 0)
    return writes, max(0, would - len(writes))
