"""Finding records in bulk: by natural key, and references by key.

An upsert of 10,000 records must not make 10,000 GETs: records are looked up a batch at a time
with `where=FIELD in (…)`, and the pages of the answer are walked with the id keyset (one SKU
may have many inventory entries). References given by key in a draft (`{"typeId": "category",
"key": "shirts"}`) are resolved to ids the same way and cached, so a draft compares with the
platform's `{typeId, id}` references.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cartwire.connectors.schema import Endpoint, Paging, key_fields
from cartwire.http.client import ApiClient
from cartwire.platforms.commercetools.compare import Json, is_reference
from cartwire.platforms.commercetools.paging import IdKeyset, in_predicate
from cartwire.resources.reader import apages

LOOKUP_BATCH = 100  # values per `in (…)` predicate: a short URL, a cheap query

# Where references of each type can be looked up by key. Store references are KeyReferences
# (compared by key), so they are not resolved.
REFERENCE_PATHS = {
    "category": "categories",
    "channel": "channels",
    "customer-group": "customer-groups",
    "product": "products",
    "product-type": "product-types",
    "shipping-method": "shipping-methods",
    "state": "states",
    "tax-category": "tax-categories",
    "type": "types",
    "zone": "zones",
}


def batches(values: Iterable[str], size: int = LOOKUP_BATCH) -> Iterable[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def collection(path: str) -> Endpoint:
    """A receive-only endpoint for an arbitrary collection path (references, look-ups)."""
    return Endpoint(
        name=path.replace("/", "-"),
        entity=path,
        direction="receive",
        path=path,
        data_path="results",
        paging=Paging(strategy=IdKeyset.name, page_size=500),
    )


async def find(
    api: ApiClient, endpoint: Endpoint, field: str, values: Sequence[str]
) -> AsyncIterator[Json]:
    """Every record of `endpoint` whose `field` is one of `values` (all pages)."""
    paginator = IdKeyset(endpoint, endpoint.paging or Paging(strategy=IdKeyset.name))
    async for page in apages(api, endpoint, paginator, in_predicate(field, values)):
        for record in page.records:
            yield record


@dataclass(frozen=True)
class NaturalKey:
    """The fields that identify a record across systems, e.g. `key`, or `sku,supplyChannel`.

    The first field is looked up on the platform (`where=sku in (…)`), the others are matched
    locally; a reference field takes part by its id, and a missing one as None.
    """

    fields: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str) -> "NaturalKey":
        fields = key_fields(spec)
        if not fields:
            raise ValueError(f"natural key {spec!r} names no field")
        return cls(fields)

    @property
    def lookup_field(self) -> str:
        return self.fields[0]

    def lookup_value(self, record: Mapping[str, Any]) -> str | None:
        value = record.get(self.lookup_field)
        return value if isinstance(value, str) and value else None

    def of(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The key as a comparable tuple (references by id; a draft's are resolved first)."""
        return tuple(_part(record.get(f)) for f in self.fields)

    def label(self, record: Mapping[str, Any]) -> str | None:
        """The key as a person reads it in a result: `SKU-1/eu-warehouse`."""
        parts = []
        for field in self.fields:
            value = record.get(field)
            if isinstance(value, Mapping):
                value = value.get("key") or value.get("id")
            if value is not None:
                parts.append(str(value))
        return "/".join(parts) or None


def _part(value: Any) -> Any:
    if is_reference(value):
        return (value["typeId"], value.get("id") or f"key:{value.get('key')}")
    return value


class References:
    """Reference keys resolved to ids, a batch per type at a time, cached for the writer's life."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.ids: dict[tuple[str, str], str] = {}
        self._asked: set[tuple[str, str]] = set()

    async def resolve(self, records: Iterable[Any]) -> None:
        wanted: dict[str, set[str]] = {}
        for ref in _references(records):
            pair = (ref["typeId"], ref["key"])
            if ref["typeId"] in REFERENCE_PATHS and pair not in self._asked:
                wanted.setdefault(ref["typeId"], set()).add(ref["key"])
        for type_id, keys in wanted.items():
            self._asked.update((type_id, key) for key in keys)
            endpoint = collection(REFERENCE_PATHS[type_id])
            for batch in batches(sorted(keys)):
                async for found in find(self.api, endpoint, "key", batch):
                    self.ids[(type_id, found["key"])] = found["id"]

    def learn(self, type_id: str, record: Mapping[str, Any]) -> None:
        """Remember a record just created, so later drafts can point at it by key."""
        if isinstance(record.get("key"), str) and isinstance(record.get("id"), str):
            self.ids[(type_id, record["key"])] = record["id"]

    def canonical(self, value: Any) -> Any:
        """A copy of `value` with every resolvable `{typeId, key}` as `{typeId, id}`."""
        if is_reference(value) and "id" not in value:
            found = self.ids.get((value["typeId"], value["key"]))
            return {"typeId": value["typeId"], "id": found} if found else dict(value)
        if isinstance(value, Mapping):
            return {k: self.canonical(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.canonical(v) for v in value]
        return value


def _references(value: Any) -> Iterable[Mapping[str, Any]]:
    if is_reference(value):
        if "id" not in value and isinstance(value.get("key"), str):
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _references(item)
