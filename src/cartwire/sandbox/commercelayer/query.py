"""Parsing of JSON:API query parameters: page, sort, fields, include and Ransack filters.

Brackets may come raw (`page[size]=5`) or percent-encoded (`page%5Bsize%5D=5`, what the JS SDK
sends); both decode to the same key. Invalid parameters raise the jsonapi-resources errors the
real API answers with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from . import errors
from .ransack import Predicate, cast_operand, ruby_to_i, split_predicate
from .schema import BY_TYPE, TIMESTAMP_FIELDS, Kind, Resource

DEFAULT_PAGE_SIZE = 10
MAXIMUM_PAGE_SIZE = 25
MAX_PATH_DEPTH = 3

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")

IncludeTree = dict[str, "IncludeTree"]
RawValue = str | list[str]


@dataclass(frozen=True)
class Step:
    """One relationship hop of a filter attribute such as `shipping_category_name`."""

    relationship: str
    target: str
    inverse: str | None  # set for to-many hops: the to-one on `target` pointing back


@dataclass(frozen=True)
class AttributePath:
    steps: tuple[Step, ...]
    field: str
    kind: Kind


@dataclass(frozen=True)
class Condition:
    key: str
    paths: tuple[AttributePath, ...]
    any_path: bool  # `_or_` between attributes (else `_and_`)
    predicate: Predicate
    operands: tuple[Any, ...]  # one per path, cast to that path's type


@dataclass
class QueryParams:
    pairs: list[tuple[str, str]]
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    fields: dict[str, set[str]] = field(default_factory=dict)
    include: IncludeTree = field(default_factory=dict)
    conditions: list[Condition] = field(default_factory=list)
    id_filter: list[str] | None = None  # JR's built-in `filter[id]=a,b`


def parse_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rails-style nesting: `a[b][c]=v` → {"a": {"b": {"c": v}}}; `a[]=v` appends."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following_is_list = not last and parts[index + 1] == "" and index + 1 == len(parts) - 1
            if last:
                node[part] = value
            elif following_is_list:
                existing = node.get(part)
                if not isinstance(existing, list):
                    existing = node[part] = []
                existing.append(value)
                break
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return root


def parse(raw_query: str, resource: Resource, *, collection: bool) -> QueryParams:
    pairs = parse_pairs(raw_query)
    tree = _nest(pairs)
    params = QueryParams(pairs)
    if "fields" in tree:
        params.fields = _parse_fields(tree["fields"])
    if "include" in tree:
        params.include = _parse_include(tree["include"], resource)
    if collection:
        if "page" in tree:
            params.number, params.size = _parse_page(tree["page"])
        if "sort" in tree:
            params.sort = _parse_sort(tree["sort"], resource)
        if "filter" in tree:
            _parse_filter(tree["filter"], resource, params)
    return params


def _parse_page(raw: Any) -> tuple[int, int]:
    if isinstance(raw, str):
        number, size = ruby_to_i(raw), DEFAULT_PAGE_SIZE
    elif isinstance(raw, dict):
        for key in raw:
            if key not in ("number", "size"):
                raise errors.page_parameter_not_allowed(key)
        number = _page_int(raw.get("number"), 1)
        size = _page_int(raw.get("size"), DEFAULT_PAGE_SIZE)
    else:
        raise errors.invalid_page_value("number", raw)
    if size < 1:
        raise errors.invalid_page_value("size", size)
    if size > MAXIMUM_PAGE_SIZE:
        raise errors.invalid_page_value(
            "size", size, f"size exceeds maximum page size of {MAXIMUM_PAGE_SIZE}."
        )
    if number < 1:
        raise errors.invalid_page_value("number", number)
    return number, size


def _page_int(raw: Any, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    return ruby_to_i(raw) if isinstance(raw, str) else 0


def _parse_sort(raw: Any, resource: Resource) -> list[tuple[str, bool]]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    criteria = []
    for item in items:
        if item == "":
            if raw == "":
                return []
            raise errors.invalid_sort(resource.type, item)
        descending = item.startswith("-")
        name = item[1:] if descending else item
        if not resource.is_sortable(name):
            raise errors.invalid_sort(resource.type, name)
        criteria.append((name, descending))
    return criteria


def _parse_fields(raw: Any) -> dict[str, set[str]]:
    if not isinstance(raw, dict):
        raise errors.single(
            400, "INVALID_FIELD_FORMAT", "Invalid field format", "Fields must specify a type."
        )
    fields: dict[str, set[str]] = {}
    for type_name, value in raw.items():
        resource = BY_TYPE.get(type_name)
        if resource is None:
            raise errors.invalid_resource(type_name)
        names = value if isinstance(value, list) else (value.split(",") if value else [])
        if not names:
            raise errors.invalid_field(type_name, "nil")
        valid = valid_fields(resource)
        for name in names:
            if name not in valid:
                raise errors.invalid_field(type_name, name)
        fields[type_name] = set(names)
    return fields


def valid_fields(resource: Resource) -> set[str]:
    return (
        {"id", *TIMESTAMP_FIELDS}
        | {a.name for a in resource.readable_attributes()}
        | set(resource.relationship_names())
    )


def _parse_include(raw: Any, resource: Resource) -> IncludeTree:
    paths = raw if isinstance(raw, list) else [p for p in str(raw).split(",") if p != ""]
    tree: IncludeTree = {}
    for path in paths:
        node, current = tree, resource
        for segment in path.split("."):
            target = current.target_of(segment)
            if target is None:
                raise errors.invalid_include(current.type, segment)
            node = node.setdefault(segment, {})
            current = BY_TYPE[target]
    return tree


def _parse_filter(raw: Any, resource: Resource, params: QueryParams) -> None:
    if not isinstance(raw, dict):
        raise errors.single(
            400,
            "INVALID_FILTERS_SYNTAX",
            "Invalid filters syntax",
            f"{raw} is not a valid syntax for filtering.",
        )
    for key, value in raw.items():
        if key == "q" and isinstance(value, dict):
            for ransack_key, operand in value.items():
                condition = _condition(ransack_key, operand, resource)
                if condition is not None:
                    params.conditions.append(condition)
        elif key == "id" and isinstance(value, str):
            params.id_filter = [v for v in value.split(",") if v]
        else:
            raise errors.filter_not_allowed(key)


def _condition(key: str, raw: Any, resource: Resource) -> Condition | None:
    split = split_predicate(key)
    if split is None:
        raise errors.filter_not_allowed(key)
    names, predicate = split
    any_path = "_and_" not in names
    parts = names.split("_or_") if any_path else names.split("_and_")
    paths = []
    for part in parts:
        path = resolve(resource, part)
        if path is None or (predicate.arity == "json") != (path.kind is Kind.OBJECT):
            raise errors.filter_not_allowed(key)
        paths.append(path)
    if not isinstance(raw, str | list):
        return None
    operands = tuple(cast_operand(predicate, path.kind, raw) for path in paths)
    if any(operand is None for operand in operands):
        return None  # Ransack drops conditions whose value is blank or does not cast
    return Condition(key, tuple(paths), any_path, predicate, operands)


def resolve(resource: Resource, name: str, depth: int = 0) -> AttributePath | None:
    """Map a Ransack attribute name to a path: own attribute, else `<relationship>_<attr>`."""
    if resource.is_filterable(name):
        if name == "id":
            kind = Kind.STRING
        elif name in TIMESTAMP_FIELDS:
            kind = Kind.DATETIME
        else:
            kind = resource.attribute_map[name].kind
        return AttributePath((), name, kind)
    if depth >= MAX_PATH_DEPTH:
        return None
    for rel in sorted(resource.relationship_names(), key=len, reverse=True):
        if not name.startswith(rel + "_"):
            continue
        target = BY_TYPE[resource.target_of(rel) or ""]
        rest = resolve(target, name[len(rel) + 1 :], depth + 1)
        if rest is None:
            continue
        many = resource.has_many_map.get(rel)
        step = Step(rel, target.type, many.inverse if many else None)
        return AttributePath((step, *rest.steps), rest.field, rest.kind)
    return None
