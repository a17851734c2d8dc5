"""The `rest` write strategy: records of a plain JSON REST API, upserted by natural key.

A record is created by POST to the collection (the endpoint's path) and updated at its item
path (`{path}/{id}`) by PATCH, which sends only the fields that differ, or by PUT, which sends
the whole record as it will be (what is there with the record's fields over it, leaving out
the id and the read-only fields). Existing records are found by a filter parameter on the
natural key (`keyed_writer`, `key_lookup`). The options, besides `KeyedWriter`'s:
`update_method` (PATCH or PUT, default PATCH), `wrap` (the key a body is wrapped in, as in
`{"product": {...}}`; none by default), `record_path` (where an answer holds the record, default
`wrap`'s key, else the whole body), `id_field` (the field holding the destination's id,
default the endpoint's `primary_key`).
"""

from collections.abc import Mapping
from typing import Any

from cartwire.http.paging import dig
from cartwire.resources.keyed_writer import KeyedWriter, Options


class RestWriter(KeyedWriter):
    name = "rest"
    known_options = KeyedWriter.known_options | {"update_method", "wrap", "record_path", "id_field"}

    def configure(self, options: Options) -> None:
        self.update_method = options.choice("update_method", "PATCH", ("PATCH", "PUT"))
        self.wrap = options.text("wrap", None)
        self.record_path = options.text("record_path", self.wrap)
        self.id_field = options.text("id_field", None) or self.endpoint.primary_key

    def lookup_param(self, name: str) -> str:
        return name

    def _wrapped(self, fields: Mapping[str, Any]) -> Any:
        return {self.wrap: dict(fields)} if self.wrap else dict(fields)

    def create_body(self, fields: Mapping[str, Any]) -> Any:
        return self._wrapped(fields)

    def update_request(
        self, record_id: str, current: Mapping[str, Any] | None, changes: Mapping[str, Any]
    ) -> tuple[str, Any]:
        if self.update_method == "PATCH":
            return "PATCH", self._wrapped(changes)
        return "PUT", self._wrapped({**self.fields(current or {}), **changes})

    def record_of(self, body: Any) -> dict[str, Any] | None:
        found = dig(body, self.record_path)
        return found if isinstance(found, dict) else None
