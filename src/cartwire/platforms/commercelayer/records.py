"""What a record to write says, in Commerce Layer's terms, and how it differs from what is there.

Records come in the shape reads give out (`cartwire.resources.jsonapi`): attributes at the top
level, and each to-one relationship the endpoint writes (`relationships:` in the connector file)
under its own name, as
- `{"id": "…"}` (also a whole record read with `include`, or a plain id string),
- `{"code": "…"}`, looked up once per code (`code_in`, 100 at a time), or
- `<relationship>_id: "…"`, the Imports API's spelling;
- None, which unsets it.

A record's identity is its `id` when given, else its natural key (`code`; `sku_code` +
`price_list`; `email`; `number`; …), whose relationship parts compare by id. What it changes is
every given attribute whose value differs from the current one (numbers by value, times by
instant; an object such as `metadata` merged into the current one first, unless the write
replaces it: `cartwire.resources.nested`) and every given relationship pointing elsewhere;
`created_at`/`updated_at` are never written, write-only attributes (`password`) are sent on
create only, and trigger attributes (`_place`, `_disable`, …) always count as a change, since
sending them is the point.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cartwire.http.client import ApiClient
from cartwire.resources import value_lists
from cartwire.resources.jsonapi import flatten_document
from cartwire.resources.nested import written
from cartwire.resources.stored_values import same

NEVER_WRITTEN = frozenset({"created_at", "updated_at"})
BATCH = 25  # records per page: Commerce Layer's largest page
# Values per `_in` filter. A lookup pays one request per page of what it *finds*, so asking for
# more keys than a page holds costs nothing when they all exist (the answer just has more
# pages) and saves requests when most do not, as in a first load into an empty organization.
# Bounded by the query string's length too: past ~2,000 characters not every proxy passes a
# URL, so one filter's values stay within IN_CHARS once URL-encoded.
IN_VALUES = 100
IN_CHARS = 1500


class RecordProblem(ValueError):
    """The record cannot be written as given (reported as a failed WriteResult)."""


@dataclass
class Desired:
    """One record to write, parsed against the endpoint."""

    index: int
    source: dict[str, Any]
    id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # relationship → target id (None unsets); codes are resolved before use
    relationships: dict[str, str | None] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # relationship → code still to resolve
    key: tuple[Any, ...] | None = None
    label: str | None = None
    problem: str | None = None
    # Attributes whose object value replaces the current one instead of merging into it.
    replace: frozenset[str] = frozenset()

    @property
    def identity(self) -> tuple[Any, ...] | None:
        """What finds the current record: ("id", id) or ("key", *values); None: create."""
        if self.id is not None:
            return ("id", self.id)
        if self.key is not None:
            return ("key", *self.key)
        return None


@dataclass(frozen=True)
class Shape:
    """How records of one endpoint are written (from the connector file)."""

    type: str
    relationships: Mapping[str, str]  # name → target type
    key: tuple[str, ...]  # natural key fields (attributes or relationship names)
    write_only: frozenset[str] = frozenset()

    def key_param(self, name: str) -> str:
        """The Ransack attribute of a key field (`price_list` → `price_list_id`)."""
        return f"{name}_id" if name in self.relationships else name

    def parse(self, index: int, record: Mapping[str, Any], key: tuple[str, ...]) -> Desired:
        desired = Desired(index, dict(record))
        try:
            self._fill(desired, record)
        except RecordProblem as problem:
            desired.problem = str(problem)
        desired.label = self._label(desired, key)
        return desired

    def _fill(self, desired: Desired, record: Mapping[str, Any]) -> None:
        for name, value in record.items():
            if name == "id":
                desired.id = None if value in (None, "") else str(value)
            elif name == "type":
                if value not in (None, self.type):
                    raise RecordProblem(f"a {value} record cannot be written as {self.type}")
            elif name in NEVER_WRITTEN:
                continue
            elif name in self.relationships:
                self._relationship(desired, name, value)
            elif name.endswith("_id") and name[:-3] in self.relationships:
                self._relationship(desired, name[:-3], {"id": value} if value else None)
            elif _looks_linked(value):
                raise RecordProblem(f"relationship {name!r} is not written through this endpoint")
            else:
                desired.attributes[name] = value

    def _relationship(self, desired: Desired, name: str, value: Any) -> None:
        if value is None:
            desired.relationships[name] = None
        elif isinstance(value, str) and value:
            desired.relationships[name] = value
        elif isinstance(value, Mapping) and value.get("id"):
            desired.relationships[name] = str(value["id"])
        elif isinstance(value, Mapping) and value.get("code"):
            desired.codes[name] = str(value["code"])
        else:
            raise RecordProblem(f"relationship {name!r} needs an id or a code, got {value!r}")

    def _label(self, desired: Desired, key: tuple[str, ...]) -> str | None:
        parts = []
        for name in key:
            if name in desired.codes:
                parts.append(desired.codes[name])
            elif name in self.relationships:
                parts.append(str(desired.relationships.get(name)))
            elif desired.attributes.get(name) not in (None, ""):
                parts.append(str(desired.attributes[name]))
        if len(parts) == len(key) and key:
            return "/".join(parts)
        return desired.id

    def set_key(self, desired: Desired, key: tuple[str, ...]) -> None:
        """The natural key, once codes are resolved (a missing part: no key, create)."""
        values: list[Any] = []
        for name in key:
            value = (
                desired.relationships.get(name)
                if name in self.relationships
                else desired.attributes.get(name)
            )
            if value in (None, ""):
                desired.key = None
                return
            values.append(str(value))
        desired.key = tuple(values) if key else None

    # -- what differs ------------------------------------------------------------------------

    def changes(
        self, desired: Desired, current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str | None]]:
        """The attributes and relationships `desired` would change in `current`; an object
        attribute's value is the whole object as it will be, since a PATCH stores the object
        it is given."""
        attributes = {}
        for name, value in desired.attributes.items():
            if name in self.write_only:
                continue
            if name.startswith("_"):
                attributes[name] = value
                continue
            after = written(name, current.get(name), value, desired.replace)
            if not same(current.get(name), after):
                attributes[name] = after
        relationships = {
            name: target
            for name, target in desired.relationships.items()
            if linked_id(current.get(name)) != target
        }
        return attributes, relationships

    def document(
        self,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, str | None],
        id_: str | None = None,
    ) -> dict[str, Any]:
        """A JSON:API create (no id) or update document."""
        data: dict[str, Any] = {"type": self.type}
        if id_ is not None:
            data["id"] = id_
        data["attributes"] = dict(attributes)
        if relationships:
            data["relationships"] = {
                name: {"data": self.linkage(name, target)} for name, target in relationships.items()
            }
        return {"data": data}

    def linkage(self, name: str, target: str | None) -> dict[str, str] | None:
        return None if target is None else {"type": self.relationships[name], "id": target}

    def merged(
        self,
        current: Mapping[str, Any] | None,
        attributes: Mapping[str, Any],
        relationships: Mapping[str, str | None],
    ) -> dict[str, Any]:
        """What the record will look like after the write (to compare later duplicates with)."""
        after = dict(current or {})
        after.update(attributes)
        for name, target in relationships.items():
            after[name] = self.linkage(name, target)
        return after


def _looks_linked(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "type" in value and "id" in value
    if isinstance(value, list) and value:
        return all(_looks_linked(item) for item in value)
    return False


def linked_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        found = value.get("id")
        return None if found is None else str(found)
    return None if value is None else str(value)


# -- reading what is there -------------------------------------------------------------------


def in_lists(values: Iterable[str]) -> Iterator[list[str]]:
    """`values` packed into `_in` filters of at most IN_VALUES values and IN_CHARS characters."""
    return value_lists.in_lists(values, IN_VALUES, IN_CHARS)


def find_all(api: ApiClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record matching `params`, walked by id (a lookup rarely needs a second page)."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, "sort": "id", "page[size]": BATCH, "page[number]": 1}
        if after is not None:
            query["filter[q][id_gt]"] = after
        body = api.request("GET", path, params=query).json()
        records = flatten_document(body)
        found.extend(records)
        left = (body.get("meta") or {}).get("record_count")
        if len(records) < BATCH or (isinstance(left, int) and left <= len(records)):
            return found
        after = records[-1]["id"]


def count(api: ApiClient, path: str, params: dict[str, Any]) -> int:
    """How many records match `params` (one record's page, for its `meta.record_count`)."""
    body = api.request("GET", path, params={**params, "page[size]": 1}).json()
    total = (body.get("meta") or {}).get("record_count")
    return total if isinstance(total, int) else 0


class Codes:
    """Relationship codes resolved to ids, once per (type, code) for the writer's life."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.known: dict[tuple[str, str], str | None] = {}

    def resolve(self, shape: Shape, records: Iterable[Desired]) -> None:
        wanted: dict[str, set[str]] = {}
        pending = [d for d in records if d.codes and d.problem is None]
        for desired in pending:
            for name, code in desired.codes.items():
                target = shape.relationships[name]
                if (target, code) not in self.known:
                    wanted.setdefault(target, set()).add(code)
        for target, codes in wanted.items():
            for batch in in_lists(sorted(codes)):
                self._fetch(target, batch)
        for desired in pending:
            for name, code in desired.codes.items():
                target_id = self.known.get((shape.relationships[name], code))
                if target_id is None:
                    desired.problem = f"no {shape.relationships[name]} with code {code!r}"
                    break
                desired.relationships[name] = target_id

    def _fetch(self, target: str, codes: list[str]) -> None:
        plain = [c for c in codes if "," not in c]
        queries = [{"filter[q][code_in]": ",".join(plain)}] if plain else []
        queries += [{"filter[q][code_eq]": c} for c in codes if "," in c]
        for params in queries:
            for record in find_all(self.api, target, {**params, f"fields[{target}]": "code"}):
                self.known[(target, str(record.get("code")))] = str(record["id"])
        for code in codes:
            self.known.setdefault((target, code), None)
