"""Creating, updating and deleting records: JSON:API write documents and model validation.

Two layers, as in jsonapi-resources on Rails: the document is checked first (400s: shape,
unknown or non-writable attributes and relationships, type mismatches), then the model
validates the proposed state and every problem becomes one 422 VALIDATION_ERROR object
(`blank`, `taken`, `not_a_number`, `inclusion`, …). Imports and the admin bulk load reuse
`save` and `load` below with flat inputs instead of documents.

A to-one relationship naming a record that does not exist is a 422 on that relationship
(`blank` if the relationship is required, else `required`/"must exist"): jsonapi-resources
only assigns the foreign key and leaves the lookup to the model's validations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import behaviours, errors
from .clock import parse_instant
from .errors import ApiError, ErrorObject
from .schema import BY_TYPE, Attribute, Kind, Resource
from .store import DeleteRestricted, Record, Store

# ActiveModel::Type::Boolean::FALSE_VALUES (plus false and 0): anything else non-empty is true.
_FALSE_STRINGS = frozenset({"0", "f", "F", "false", "FALSE", "off", "OFF"})


def is_false(value: Any) -> bool:
    if isinstance(value, str):
        return value in _FALSE_STRINGS
    return value is False or (isinstance(value, int) and value == 0)


@dataclass
class WriteContext:
    store: Store
    # Market ids of the token's scope: orders default to the market when there is one.
    scoped_markets: list[str] = field(default_factory=list)
    enqueue_import: Callable[[Record], None] | None = None


@dataclass
class Change:
    """A proposed create (`record is None`) or update, as hooks see and amend it."""

    ctx: WriteContext
    resource: Resource
    record: Record | None
    attrs: dict[str, Any]
    rels: dict[str, str | None]
    given: set[str]
    triggers: set[str]
    errors: list[ErrorObject] = field(default_factory=list)
    after: list[Callable[[Record], None]] = field(default_factory=list)

    @property
    def creating(self) -> bool:
        return self.record is None

    def fail(
        self, name: str, message: str, error: str, *, relationship: bool = False, **meta: Any
    ) -> None:
        self.errors.append(
            errors.validation_error(name, message, error, relationship=relationship, extra=meta)
        )

    def blank(self, name: str, *, relationship: bool = False) -> None:
        self.fail(name, "can't be blank", "blank", relationship=relationship)


# ---------------------------------------------------------------------------------------------
# The document layer (400s)


def parse_document(
    resource: Resource, body: Any, *, url_id: str | None
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Attributes and to-one ids of a create (`url_id is None`) or update document."""
    if not isinstance(body, dict) or "data" not in body:
        raise errors.param_missing("data")
    data = body["data"]
    if not isinstance(data, dict):
        raise errors.invalid_data_format()
    if url_id is not None:
        if data.get("id") is None:
            raise errors.missing_key()
        if str(data["id"]) != url_id:
            raise errors.key_not_included_in_url(data["id"])
    if data.get("type") is None:
        raise errors.param_missing("type")
    if data["type"] != resource.type:
        raise errors.invalid_resource(str(data["type"]))
    creating = url_id is None
    for key in data:
        if key not in ("type", "attributes", "relationships") and not (
            key == "id" and not creating
        ):
            raise errors.param_not_allowed(key)
    attributes = data.get("attributes") or {}
    relationships = data.get("relationships") or {}
    if not isinstance(attributes, dict) or not isinstance(relationships, dict):
        raise errors.invalid_data_format()
    for name in attributes:
        attribute = resource.attribute_map.get(name)
        writable = attribute is not None and (
            attribute.creatable if creating else attribute.updatable
        )
        if not writable:
            raise errors.param_not_allowed(name)
    rels: dict[str, str | None] = {}
    for name, link in relationships.items():
        one = resource.has_one_map.get(name)
        if one is None or not (one.creatable if creating else one.updatable):
            raise errors.param_not_allowed(name)
        rels[name] = _linkage(link, one.target)
    return attributes, rels


def _linkage(link: Any, target: str) -> str | None:
    if not isinstance(link, dict):
        raise errors.invalid_links_object()
    data = link.get("data")
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"type", "id"}:
        raise errors.invalid_links_object()
    if data["type"] != target:
        raise errors.type_mismatch(data["type"])
    if data["id"] is None or isinstance(data["id"], dict | list | bool):
        raise errors.invalid_links_object()
    return str(data["id"])


# ---------------------------------------------------------------------------------------------
# The model layer (422s)


def is_blank(value: Any) -> bool:
    """Rails' `blank?`: nil, false, empty or whitespace-only strings, empty collections."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, dict | list):
        return not value
    return False


def _coerce(attribute: Attribute, value: Any, change: Change) -> Any:
    """Cast an incoming value as ActiveRecord would, recording validation errors."""
    if value is None:
        return None
    kind, name = attribute.kind, attribute.name
    if kind is Kind.STRING:
        if isinstance(value, dict | list):
            change.fail(name, "is invalid", "invalid", value=value)
            return None
        text = value if isinstance(value, str) else str(value)
        if attribute.choices and text not in attribute.choices:
            change.fail(name, "is not included in the list", "inclusion", value=text)
        return text
    if kind in (Kind.INTEGER, Kind.FLOAT):
        number = _number(value)
        if number is None:
            change.fail(name, "is not a number", "not_a_number", value=value)
            return None
        if kind is Kind.INTEGER:
            if number != int(number):
                change.fail(name, "must be an integer", "not_an_integer", value=value)
                return None
            return int(number)
        return float(number)
    if kind is Kind.BOOLEAN:
        if value == "":
            return None
        return not is_false(value)
    if kind is Kind.DATETIME:
        if isinstance(value, str):
            instant = parse_instant(value)
            return None if instant is None else int(instant)
        return None
    if kind is Kind.OBJECT and not isinstance(value, dict):
        change.fail(name, "is invalid", "invalid", value=value)
        return None
    if kind is Kind.ARRAY and not isinstance(value, list):
        change.fail(name, "is invalid", "invalid", value=value)
        return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


# Per type: immutable defaults (shared) and mutable ones (empty `{}`/`[]`, copied per record).
_DEFAULTS: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any] | list[Any]]]] = {
    r.type: (
        {
            a.name: a.default
            for a in r.attributes
            if a.default is not None and not a.trigger and not isinstance(a.default, dict | list)
        },
        {a.name: a.default for a in r.attributes if isinstance(a.default, dict | list)},
    )
    for r in BY_TYPE.values()
}


def defaults(resource_type: str) -> dict[str, Any]:
    shared, mutable = _DEFAULTS[resource_type]
    values = dict(shared)
    for name, value in mutable.items():
        values[name] = value.copy()
    return values


def resolve_codes(
    store: Store, resource: Resource, attrs: dict[str, Any], given: set[str]
) -> dict[str, str | None]:
    """To-one ids named through code attributes (`sku_code` → sku), where a code was given."""
    resolved: dict[str, str | None] = {}
    for one in resource.has_one:
        code_attr = one.code_attribute
        if code_attr is None or code_attr not in given or attrs.get(code_attr) is None:
            continue
        target = store.table(one.target).find_unique(("code",), (attrs[code_attr],))
        resolved[one.name] = None if target is None else target.id
    return resolved


def save(
    ctx: WriteContext,
    resource: Resource,
    record: Record | None,
    attributes: dict[str, Any],
    relationships: dict[str, str | None],
    *,
    new_id: str | None = None,
) -> Record:
    """Validate and persist a create (`record is None`) or an update; 422 on any problem.

    `new_id` fixes the id of a created record (baseline data).
    """
    store = ctx.store
    triggers = {
        name
        for name, value in attributes.items()
        if resource.attribute_map[name].trigger and value not in (None, "") and not is_false(value)
    }
    change = Change(
        ctx,
        resource,
        record,
        dict(record.attrs) if record else defaults(resource.type),
        dict(record.rels) if record else {one.name: None for one in resource.has_one},
        set(attributes) | set(relationships),
        triggers,
    )
    for name, value in attributes.items():
        attribute = resource.attribute_map[name]
        if not attribute.trigger:
            change.attrs[name] = _coerce(attribute, value, change)
    change.rels.update(relationships)
    change.rels.update(
        {
            k: v
            for k, v in resolve_codes(store, resource, change.attrs, change.given).items()
            if k not in relationships
        }
    )
    hooks = behaviours.hooks_for(resource.type)
    if hooks.prepare:
        hooks.prepare(change)
    _validate(store, resource, change)
    if record is None and hooks.fill and not change.errors:
        hooks.fill(store, change.attrs)
    if change.errors:
        raise ApiError(422, change.errors)
    if record is None:
        record = store.insert(resource.type, change.attrs, change.rels, new_id)
        if hooks.derive:
            hooks.derive(store, record)
    else:
        before = (dict(record.attrs), dict(record.rels))
        store.update(record, change.attrs, change.rels, touch=False)
        if hooks.derive:
            hooks.derive(store, record)
        if (record.attrs, record.rels) != before:
            store.touch(record)
    for callback in change.after:
        callback(record)
    return record


def _validate(store: Store, resource: Resource, change: Change) -> None:
    updating = change.record is not None
    for attribute in resource.attributes:
        if updating and not attribute.updatable:
            continue  # create-only attributes are validated on create only
        already = any(e["source"]["pointer"].endswith(f"/{attribute.name}") for e in change.errors)
        if attribute.required and not already and is_blank(change.attrs.get(attribute.name)):
            change.blank(attribute.name)
    for one in resource.has_one:
        target_id = change.rels.get(one.name)
        if target_id is None:
            if one.required:
                change.blank(one.name, relationship=True)
        elif store.get(one.target, target_id) is None:
            if one.required:
                change.blank(one.name, relationship=True)
            else:
                change.fail(one.name, "must exist", "required", relationship=True)
    table = store.table(resource.type)
    exclude = change.record.id if change.record else None
    for rule in table.conflicts(change.attrs, change.rels, exclude):
        first = rule.fields[0]
        relationship = first in resource.has_one_map
        value = change.rels.get(first) if relationship else change.attrs.get(first)
        change.fail(
            first, "has already been taken", "taken", relationship=relationship, value=value
        )


def destroy(ctx: WriteContext, record: Record) -> None:
    try:
        removed = ctx.store.delete(record)
    except DeleteRestricted as exc:
        raise errors.locked(str(exc)) from exc
    for gone in removed:
        hooks = behaviours.hooks_for(gone.type)
        if hooks.after_delete:
            hooks.after_delete(ctx.store, gone)


def import_errors(error: ApiError) -> dict[str, list[str]]:
    """422 error objects as an import's errors_log entry: {"name": ["can't be blank"]}."""
    log: dict[str, list[str]] = {}
    for obj in error.errors:
        pointer = obj.get("source", {}).get("pointer", "/data")
        name = pointer.rsplit("/", 1)[-1] if pointer != "/data" else "base"
        log.setdefault(name, []).append(obj["title"])
    return log


# ---------------------------------------------------------------------------------------------
# Bulk load (admin API): no validation beyond what keeps the store consistent


class LoadError(ValueError):
    pass


def load(store: Store, resource_type: str, rows: list[Any], timestamp: Any = None) -> list[str]:
    """Insert many records at once, filling defaults, code lookups and derived fields.

    An ISO `timestamp` becomes every loaded record's `created_at` and `updated_at`: the real
    API renders milliseconds, so records written together (an import) can share one instant,
    which the sandbox's own clock never produces.
    """
    resource = BY_TYPE.get(resource_type)
    if resource is None:
        raise LoadError(f"unknown type {resource_type!r}")
    stamp = None
    if timestamp is not None:
        parsed = parse_instant(timestamp) if isinstance(timestamp, str) else None
        if parsed is None:
            raise LoadError(f"timestamp {timestamp!r} is not an ISO 8601 time")
        stamp = int(parsed)
    table = store.table(resource_type)
    hooks = behaviours.hooks_for(resource_type)
    prepared: list[tuple[str | None, dict[str, Any], dict[str, str | None]]] = []
    seen_ids: set[str] = set()
    batch_keys: list[set[Any]] = [set() for _ in table.unique]
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise LoadError(f"records[{index}] is not an object")
        record_id = row.get("id")
        if record_id is not None:
            if not isinstance(record_id, str) or not record_id or "/" in record_id:
                raise LoadError(f"records[{index}].id must be a non-empty string without '/'")
            if record_id in table.records or record_id in seen_ids:
                raise LoadError(f"records[{index}].id {record_id!r} already exists")
            seen_ids.add(record_id)
        attributes = row.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise LoadError(f"records[{index}].attributes is not an object")
        attrs = defaults(resource_type)
        for name, value in attributes.items():
            attribute = resource.attribute_map.get(name)
            if attribute is None or attribute.trigger:
                raise LoadError(f"records[{index}]: unknown attribute {name!r}")
            if attribute.kind is Kind.DATETIME and isinstance(value, str):
                instant = parse_instant(value)
                value = None if instant is None else int(instant)
            attrs[name] = value
        rels: dict[str, str | None] = {one.name: None for one in resource.has_one}
        rels.update(resolve_codes(store, resource, attrs, set(attributes)))
        links = row.get("relationships") or {}
        if not isinstance(links, dict):
            raise LoadError(f"records[{index}].relationships is not an object")
        for name, link in links.items():
            one = resource.has_one_map.get(name)
            if one is None:
                raise LoadError(f"records[{index}]: unknown relationship {name!r}")
            if link is not None and (not isinstance(link, dict) or link.get("type") != one.target):
                raise LoadError(
                    f"records[{index}].{name} must be {{'type': '{one.target}', 'id': …}}"
                )
            target_id = link.get("id") if link else None
            if target_id is not None and store.get(one.target, target_id) is None:
                raise LoadError(f"records[{index}]: {name} {target_id!r} does not exist")
            rels[name] = target_id
        if hooks.fill:
            hooks.fill(store, attrs)
        for (rule, existing), keys in zip(table.unique, batch_keys, strict=True):
            key = table.unique_key(rule, attrs, rels)
            if key is None:
                continue
            if key in keys or key in existing:
                raise LoadError(f"records[{index}]: {'+'.join(rule.fields)} {key!r} is taken")
            keys.add(key)
        prepared.append((record_id, attrs, rels))
    created = store.insert_many(resource_type, prepared, len(prepared), stamp)
    if hooks.derive:
        for record in created:
            hooks.derive(store, record)
    if hooks.after_load:
        hooks.after_load(store, created)
    return [r.id for r in created]
