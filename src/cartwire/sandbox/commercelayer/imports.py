"""Asynchronous imports (facts §7.3), processed by a background task in the server's loop.

An import is `pending` when created, `in_progress` while its inputs are upserted in chunks
(yielding to the event loop between chunks so the API stays responsive), then `completed`, or
`interrupted` once errors exceed 10 % of the inputs (unless `skip_errors`) or on `_interrupt`.
Each input is matched by `id` or by its natural key (skus `code`, prices `sku_code` + price
list, stock items `sku_code` + stock location, customers `email`, orders `number`, shipping
categories `code`) and created or updated through the same validation as the API; failures
land in `errors_log` keyed by the natural key (or the input's index).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from .errors import ApiError
from .schema import BY_TYPE, Resource
from .store import Record, Store
from .writes import WriteContext, destroy, import_errors, save

CHUNK = 250
ERROR_THRESHOLD = 0.10


class Importer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, record: Record) -> None:
        self._queue.append(record.id)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wakeup.set()

    async def reset(self, store: Store) -> None:
        """Forget queued work (the store it referred to is gone)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._queue.clear()
        self.store = store

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            record = self.store.get("imports", self._queue.popleft())
            if record is not None and record.attrs.get("status") == "pending":
                await self._process(record)

    async def _process(self, job: Record) -> None:
        store = self.store
        await asyncio.sleep(0)  # let the creating request answer while still `pending`
        if store.get("imports", job.id) is not job or job.attrs.get("status") != "pending":
            return
        store.update(job, {"status": "in_progress", "started_at": store.clock.tick()}, {})
        resource = BY_TYPE[job.attrs["resource_type"]]
        inputs: list[dict[str, Any]] = job.attrs.get("inputs") or []
        ctx = WriteContext(store)
        parent = job.attrs.get("parent_resource_id")
        errors_log: dict[str, Any] = {}
        touched: set[str] = set()
        processed = 0
        for start in range(0, len(inputs), CHUNK):
            for index in range(start, min(start + CHUNK, len(inputs))):
                label, problem, record = _upsert(ctx, resource, parent, index, inputs[index])
                if problem is None and record is not None:
                    processed += 1
                    touched.add(record.id)
                else:
                    errors_log[label] = problem
            store.update(
                job,
                {
                    "processed_count": processed,
                    "errors_count": len(errors_log),
                    "errors_log": dict(errors_log),
                },
                {},
            )
            too_many = len(errors_log) > ERROR_THRESHOLD * len(inputs)
            if too_many and not job.attrs.get("skip_errors"):
                store.update(
                    job, {"status": "interrupted", "interrupted_at": store.clock.tick()}, {}
                )
                return
            await asyncio.sleep(0)
            if store.get("imports", job.id) is not job or job.attrs.get("status") != "in_progress":
                return  # deleted, or interrupted through `_interrupt`
        changes: dict[str, Any] = {"status": "completed", "completed_at": store.clock.tick()}
        if job.attrs.get("cleanup_records"):
            destroyed, warnings = _cleanup(ctx, resource, parent, touched)
            changes.update(
                destroyed_count=destroyed, warnings_count=len(warnings), warnings_log=warnings
            )
        store.update(job, changes, {})


def _label(resource: Resource, index: int, item: dict[str, Any]) -> str:
    for key in resource.import_keys:
        value = item.get(key[0])
        if value not in (None, ""):
            return str(value)
    return str(index)


def _split(
    resource: Resource, parent: str | None, item: dict[str, Any], problems: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Attributes and to-one ids of an input (`<relationship>_id` names a relationship)."""
    attributes: dict[str, Any] = {}
    relationships: dict[str, str | None] = {}
    for key, value in item.items():
        if key == "id" or (key == "line_items" and resource.type == "orders"):
            continue
        attribute = resource.attribute_map.get(key)
        if attribute is not None and (attribute.creatable or attribute.updatable):
            attributes[key] = value
        elif key.endswith("_id") and key[:-3] in resource.has_one_map:
            relationships[key[:-3]] = None if value in (None, "") else str(value)
        else:
            problems.setdefault(key, []).append("is not a valid attribute")
    if parent and resource.import_parent and resource.import_parent not in relationships:
        relationships[resource.import_parent] = parent
    return attributes, relationships


def _existing(
    store: Store,
    resource: Resource,
    item: dict[str, Any],
    attributes: dict[str, Any],
    relationships: dict[str, str | None],
) -> Record | None:
    table = store.table(resource.type)
    if item.get("id"):
        return table.records.get(str(item["id"]))
    for key in resource.import_keys:
        fields: list[str] = []
        values: list[Any] = []
        for name in key:
            if name.endswith("_id") and name[:-3] in resource.has_one_map:
                fields.append(name[:-3])
                values.append(relationships.get(name[:-3]))
            elif name.endswith("_code") and name[:-5] in resource.has_one_map:
                target = store.table(resource.has_one_map[name[:-5]].target)
                found = target.find_unique(("code",), (attributes.get(name),))
                fields.append(name[:-5])
                values.append(found.id if found else None)
            else:
                fields.append(name)
                values.append(attributes.get(name))
        if None in values or not any(rule.fields == tuple(fields) for rule in resource.unique):
            continue
        match = table.find_unique(tuple(fields), tuple(values))
        if match is not None:
            return match
    return None


def _upsert(
    ctx: WriteContext, resource: Resource, parent: str | None, index: int, item: Any
) -> tuple[str, dict[str, list[str]] | None, Record | None]:
    if not isinstance(item, dict):
        return str(index), {"base": ["is not an object"]}, None
    label = _label(resource, index, item)
    problems: dict[str, list[str]] = {}
    attributes, relationships = _split(resource, parent, item, problems)
    if problems:
        return label, problems, None
    record = _existing(ctx.store, resource, item, attributes, relationships)
    if record is None and item.get("id"):
        return label, {"id": ["not found"]}, None
    if record is not None:
        attributes = {k: v for k, v in attributes.items() if resource.attribute_map[k].updatable}
        relationships = {
            k: v for k, v in relationships.items() if resource.has_one_map[k].updatable
        }
    try:
        saved = save(ctx, resource, record, attributes, relationships)
    except ApiError as error:
        return label, import_errors(error), None
    nested = item.get("line_items")
    if resource.type == "orders" and isinstance(nested, list):
        failures = _order_line_items(ctx, saved, nested)
        if failures:
            return label, {"line_items": failures}, saved
    return label, None, saved


def _order_line_items(ctx: WriteContext, order: Record, items: list[Any]) -> list[str]:
    """Upsert an order's nested line items, matching existing ones by `sku_code`."""
    line_items = BY_TYPE["line_items"]
    existing = {
        li.attrs.get("sku_code"): li
        for li in ctx.store.table("line_items").referring("order", order.id)
    }
    failures: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            failures.append("is not an object")
            continue
        problems: dict[str, list[str]] = {}
        attributes, relationships = _split(line_items, order.id, item, problems)
        if problems:
            failures.extend(f"{k} {m}" for k, ms in problems.items() for m in ms)
            continue
        current = existing.get(item.get("sku_code"))
        if current is not None:
            relationships.pop("order", None)
        try:
            save(ctx, line_items, current, attributes, relationships)
        except ApiError as error:
            failures.extend(f"{k} {m}" for k, ms in import_errors(error).items() for m in ms)
    return failures


def _cleanup(
    ctx: WriteContext, resource: Resource, parent: str | None, keep: set[str]
) -> tuple[int, dict[str, list[str]]]:
    """Delete the records of the import's scope that its inputs did not mention."""
    table = ctx.store.table(resource.type)
    if parent and resource.import_parent:
        scope = table.referring(resource.import_parent, parent)
    else:
        scope = list(table.records.values())
    destroyed = 0
    warnings: dict[str, list[str]] = {}
    for record in scope:
        if record.id in keep or ctx.store.get(resource.type, record.id) is None:
            continue
        try:
            destroy(ctx, record)
            destroyed += 1
        except ApiError:
            warnings[record.id] = ["could not be deleted"]
    return destroyed, warnings
