"""JSON:API documents as jsonapi-resources renders them for Commerce Layer.

Relationship objects carry only `links` unless the relationship is included (then `data`
linkage, and the related resources go to top-level `included`, once each and never repeating
primary data) or named in a sparse fieldset (then `data` linkage only). Collections get
`meta.record_count`/`page_count` and pagination links that keep the request's other
parameters, built like Rails' `Hash#to_query` (sorted, brackets percent-encoded).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote_plus

from .clock import format_ms
from .query import IncludeTree, QueryParams
from .schema import BY_TYPE, TIMESTAMP_FIELDS, Kind, Resource
from .store import Record, Store

Document = dict[str, Any]
Key = tuple[str, str]


def _layout(resource: Resource) -> list[tuple[str, Kind]]:
    """Rendered attributes in schema order, timestamps just before `reference`."""
    layout = []
    for attribute in resource.readable_attributes():
        if attribute.name == "reference":
            layout += [(name, Kind.DATETIME) for name in TIMESTAMP_FIELDS]
        layout.append((attribute.name, attribute.kind))
    return layout


_LAYOUTS = {r.type: _layout(r) for r in BY_TYPE.values()}


def render_value(kind: Kind, value: Any) -> Any:
    if kind is Kind.DATETIME and isinstance(value, int | float):
        return format_ms(int(value))
    return value


class Renderer:
    """Renders records for one request (its base URL, trace id, fields and includes)."""

    def __init__(
        self,
        store: Store,
        base_url: str,
        meta: dict[str, Any],
        params: QueryParams | None,
    ) -> None:
        self.store = store
        self.api = f"{base_url}/api"
        self.meta = meta
        self.fields = params.fields if params else {}
        self.include = params.include if params else {}

    def _attributes(self, record: Record, extra: dict[str, Any]) -> dict[str, Any]:
        wanted = self.fields.get(record.type)
        attrs = record.attrs
        out: dict[str, Any] = {}
        for name, kind in _LAYOUTS[record.type]:
            if wanted is not None and name not in wanted:
                continue
            if name == "created_at":
                out[name] = format_ms(record.created_at)
            elif name == "updated_at":
                out[name] = format_ms(record.updated_at)
            elif name in extra:
                out[name] = extra[name]
            elif name == "inventory":
                continue  # only on single-resource reads, where an extra provides it
            else:
                out[name] = render_value(kind, attrs.get(name))
        return out

    def linkage(self, record: Record, relationship: str) -> Any:
        resource = BY_TYPE[record.type]
        one = resource.has_one_map.get(relationship)
        if one is not None:
            target_id = record.rels.get(relationship)
            return None if target_id is None else {"type": one.target, "id": target_id}
        many = resource.has_many_map[relationship]
        related = self.store.table(many.target).referring(many.inverse, record.id)
        return [{"type": many.target, "id": r.id} for r in related]

    def resource_object(
        self,
        record: Record,
        linked: set[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Document:
        """One resource object; `extra` holds attributes computed for single reads only."""
        resource = BY_TYPE[record.type]
        self_url = f"{self.api}/{record.type}/{record.id}"
        wanted = self.fields.get(record.type)
        relationships: dict[str, Any] = {}
        for name in resource.relationship_names():
            if wanted is not None and name not in wanted:
                continue
            rel: dict[str, Any] = {
                "links": {
                    "self": f"{self_url}/relationships/{name}",
                    "related": f"{self_url}/{name}",
                }
            }
            if wanted is not None or (linked is not None and name in linked):
                rel["data"] = self.linkage(record, name)
            relationships[name] = rel
        obj: Document = {"id": record.id, "type": record.type, "links": {"self": self_url}}
        attributes = self._attributes(record, extra or {})
        if attributes:
            obj["attributes"] = attributes
        if relationships:
            obj["relationships"] = relationships
        obj["meta"] = self.meta
        return obj

    def _collect(
        self,
        records: list[Record],
        tree: IncludeTree,
        linked: dict[Key, set[str]],
        included: dict[Key, Record],
    ) -> None:
        for name, subtree in tree.items():
            children: list[Record] = []
            for record in records:
                linked.setdefault((record.type, record.id), set()).add(name)
                children.extend(self.related(record, name))
            unique: dict[Key, Record] = {}
            for child in children:
                key = (child.type, child.id)
                if key not in linked:
                    included[key] = child
                    linked[key] = set()
                unique[key] = child
            if subtree:
                self._collect(list(unique.values()), subtree, linked, included)

    def related(self, record: Record, relationship: str) -> list[Record]:
        resource = BY_TYPE[record.type]
        one = resource.has_one_map.get(relationship)
        if one is not None:
            target_id = record.rels.get(relationship)
            found = self.store.get(one.target, target_id)
            return [] if found is None else [found]
        many = resource.has_many_map[relationship]
        return self.store.table(many.target).referring(many.inverse, record.id)

    def _compound(
        self, primary: list[Record], extra: dict[str, Any] | None = None
    ) -> tuple[list[Document], list[Document]]:
        linked: dict[Key, set[str]] = {(r.type, r.id): set() for r in primary}
        included: dict[Key, Record] = {}
        if self.include:
            self._collect(primary, self.include, linked, included)
        data = [self.resource_object(r, linked[(r.type, r.id)], extra) for r in primary]
        compound = [self.resource_object(r, linked[key]) for key, r in included.items()]
        return data, compound

    def single(self, record: Record | None, extra: dict[str, Any] | None = None) -> Document:
        if record is None:
            return {"data": None}
        data, included = self._compound([record], extra)
        document: Document = {"data": data[0]}
        if included:
            document["included"] = included
        return document

    def collection(
        self, records: list[Record], record_count: int, params: QueryParams, path: str
    ) -> Document:
        data, included = self._compound(records)
        document: Document = {"data": data}
        if included:
            document["included"] = included
        page_count = math.ceil(record_count / params.size)
        document["meta"] = {"record_count": record_count, "page_count": page_count}
        document["links"] = pagination_links(f"{self.api}/{path}", params, page_count)
        return document


def pagination_links(url: str, params: QueryParams, page_count: int) -> dict[str, str]:
    """JR's paged paginator links; `next` is omitted on the last page, `prev` on the first."""
    kept = [(k, v) for k, v in params.pairs if not k.startswith("page[") and k != "page"]

    def link(number: int) -> str:
        pairs = [*kept, ("page[number]", str(number)), ("page[size]", str(params.size))]
        encoded = sorted(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in pairs)
        return f"{url}?{'&'.join(encoded)}"

    links = {"first": link(1)}
    if params.number > 1:
        links["prev"] = link(params.number - 1)
    if params.number < page_count:
        links["next"] = link(params.number + 1)
    links["last"] = link(max(page_count, 1))
    return links
