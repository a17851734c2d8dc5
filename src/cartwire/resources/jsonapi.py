"""JSON:API documents as the plain records the rest of cartwire maps (JSON:API is a standard:
any platform that speaks it reads, writes and pushes webhooks in these records).

A resource object `{"id", "type", "attributes", "relationships", "links", "meta"}` becomes one
flat dict, so that a mapping can say `record["code"]` instead of
`record["attributes"]["code"]`:

- `id` and `type`, then every attribute at the top level;
- every relationship whose linkage (`data`) the document carries, under its own name: a to-one
  as `{"id", "type"}` (or None when empty), a to-many as a list of them. Servers may send
  linkage only for relationships that were included or named in a sparse fieldset; the rest
  (links only) are left out rather than shown as empty, which would be a lie;
- when the related resource is in the document (`included`, or primary data), its flattened
  form replaces the bare `{"id", "type"}`, recursively, so `include=prices.price_list` gives
  `sku["prices"][0]["price_list"]["code"]`. A resource met again on its own path (a cycle
  such as sku → prices → sku) stays `{"id", "type"}`;
- `links` and per-resource `meta` (trace ids) are dropped: they describe the response, not the
  record.

An attribute never gives way to a relationship of the same name (the standard forbids one, but
a record must not silently change meaning if a server sends one anyway).
"""

from typing import Any

Record = dict[str, Any]
Key = tuple[str, str]


def _key(resource: Any) -> Key | None:
    if isinstance(resource, dict) and "id" in resource and "type" in resource:
        return str(resource["type"]), str(resource["id"])
    return None


class _Document:
    def __init__(self, resources: list[Any]) -> None:
        self.by_key: dict[Key, dict[str, Any]] = {}
        for resource in resources:
            key = _key(resource)
            if key is not None:
                self.by_key.setdefault(key, resource)

    def flatten(self, resource: dict[str, Any], path: frozenset[Key]) -> Record:
        key = _key(resource)
        record: Record = {"id": resource.get("id"), "type": resource.get("type")}
        attributes = resource.get("attributes")
        if isinstance(attributes, dict):
            record.update(attributes)
        relationships = resource.get("relationships")
        if not isinstance(relationships, dict):
            return record
        inner = path | {key} if key else path
        for name, relationship in relationships.items():
            if name in record or not isinstance(relationship, dict) or "data" not in relationship:
                continue
            record[name] = self._linked(relationship["data"], inner)
        return record

    def _linked(self, data: Any, path: frozenset[Key]) -> Any:
        if isinstance(data, list):
            return [self._one(item, path) for item in data]
        return self._one(data, path)

    def _one(self, identifier: Any, path: frozenset[Key]) -> Any:
        key = _key(identifier)
        if key is None:
            return None
        resource = self.by_key.get(key)
        if resource is None or key in path:
            return {"id": key[1], "type": key[0]}
        return self.flatten(resource, path)


def flatten_document(body: Any) -> list[Record]:
    """The primary data of a collection (or single-resource) document as flat records."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON:API document")
    data = body.get("data")
    primary = data if isinstance(data, list) else [] if data is None else [data]
    included = body.get("included")
    document = _Document([*primary, *(included if isinstance(included, list) else [])])
    return [document.flatten(resource, frozenset()) for resource in primary]


def flatten(body: Any) -> Record | None:
    """The single resource of a document (a create/update response) as a flat record."""
    records = flatten_document(body)
    return records[0] if records else None
