"""The `jsonapi` write strategy: resources of a JSON:API server, upserted by natural key.

Records come in the shape the endpoint's reads give out (`format: jsonapi`, flattened by
`cartwire.resources.jsonapi`): attributes at the top level, and each to-one relationship the writer
sends (`relationships:` in its options, name → target type) under its own name, as an id, as
`{"id": …}` (a linked or included record) or None, which unsets it. A create is
`POST /{type}` with `{"data": {"type", "attributes", "relationships"}}`, an update
`PATCH /{type}/{id}` with the attributes and relationships that differ (a relationship differs
when it links another id). Existing records are found with `filter[FIELD]=…` on the natural
key (`keyed_writer`), asking the server to `include` the relationships written so that their
linkage can be compared. Options, besides `KeyedWriter`'s: `type` (default: the endpoint's
path) and `relationships`.
"""

from collections.abc import Mapping
from typing import Any

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.resources.jsonapi import flatten
from cartwire.resources.key_lookup import key_text
from cartwire.resources.keyed_writer import KeyedWriter, Options, RecordProblem
from cartwire.resources.writer import Change

MEDIA_TYPE = "application/vnd.api+json"


class JsonApiWriter(KeyedWriter):
    name = "jsonapi"
    known_options = KeyedWriter.known_options | {"type", "relationships"}
    write_headers = {"Content-Type": MEDIA_TYPE}

    def __init__(self, api: ApiClient, endpoint: Endpoint) -> None:
        if endpoint.format != "jsonapi":
            raise ValueError(
                f"endpoint {endpoint.name!r}: the jsonapi writer reads records as JSON:API "
                "resources; set `format: jsonapi` on the endpoint"
            )
        super().__init__(api, endpoint)

    def configure(self, options: Options) -> None:
        self.type = options.text("type", None) or self.endpoint.path.split("?", 1)[0].strip("/")
        self.relationships = options.mapping("relationships")

    def lookup_param(self, name: str) -> str:
        return f"filter[{name}]"

    def lookup_extra(self) -> dict[str, Any]:
        return {"include": ",".join(sorted(self.relationships))} if self.relationships else {}

    def fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The attributes, and each relationship as the id it links (None: unlinked)."""
        given = super().fields(record)
        kind = given.pop("type", None)
        if kind not in (None, self.type):
            raise RecordProblem(f"a {kind} record cannot be written as {self.type}")
        for name in self.relationships:
            if name in given:
                given[name] = self._target(name, given[name])
        return given

    def _target(self, name: str, value: Any) -> str | None:
        if value is None:
            return None
        target = key_text(value)
        if target is None or (isinstance(value, Mapping) and "id" not in value):
            raise RecordProblem(f"relationship {name!r} needs an id, got {value!r}")
        return target

    def change(self, name: str, current: Mapping[str, Any], value: Any) -> Change | None:
        if name not in self.relationships:
            return super().change(name, current, value)
        old = key_text(current.get(name))
        return None if old == value else Change(name, old, value)

    def _document(self, fields: Mapping[str, Any], record_id: str | None = None) -> Any:
        data: dict[str, Any] = {"type": self.type}
        if record_id is not None:
            data["id"] = record_id
        data["attributes"] = {k: v for k, v in fields.items() if k not in self.relationships}
        linked = {
            name: {"data": None if target is None else {"type": kind, "id": target}}
            for name, kind in self.relationships.items()
            if name in fields
            for target in [fields[name]]
        }
        if linked:
            data["relationships"] = linked
        return {"data": data}

    def create_body(self, fields: Mapping[str, Any]) -> Any:
        return self._document(fields)

    def update_request(
        self, record_id: str, current: Mapping[str, Any] | None, changes: Mapping[str, Any]
    ) -> tuple[str, Any]:
        return "PATCH", self._document(changes, record_id)

    def record_of(self, body: Any) -> dict[str, Any] | None:
        try:
            return flatten(body)
        except ValueError:
            return None
