"""Finding the records a destination already has under many natural keys, in few requests.

The collection is read with the endpoint's own paging (a lookup that finds many records reads
every page, never just the first), narrowed by one query parameter per key field. Where the API
takes several values in one parameter (`sku=A,B,C`, or the parameter repeated), up to `values`
keys go in one request. Records whose key is not among those asked for (a server that ignores
the parameter, or matches by prefix) are left out, so a lookup is never wrong, only slower.
The requests run a few at a time; the instance's throttles pace them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.paging import paginator_for
from cartwire.http.waiting import in_this_context, thread_pool
from cartwire.resources.reader import pages
from cartwire.resources.value_lists import in_lists

Identity = tuple[str, ...]
Found = dict[Identity, list[dict[str, Any]]]


def key_text(value: Any) -> str | None:
    """A key field's value as it is compared and sent: a linked record (`{"id", "type"}`, or a
    record read with its relationship included) by its id; a flag as JSON spells it."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def identity(record: Mapping[str, Any], fields: tuple[str, ...]) -> Identity | None:
    """The record's key, one text per field; None when a field is missing or empty."""
    values = [key_text(record.get(name)) for name in fields]
    if not fields or any(value is None for value in values):
        return None
    return tuple(value for value in values if value is not None)


@dataclass(frozen=True)
class LookupRule:
    """How the API is asked for records by key (the writer's options)."""

    params: Mapping[str, str]  # key field → its query parameter
    values: int = 1  # keys a request may ask for (in the first field's parameter)
    separator: str | None = ","  # between those values; None: the parameter once per value
    extra: Mapping[str, Any] = field(default_factory=dict)  # sent with every lookup


class KeyLookup:
    def __init__(
        self,
        api: ApiClient,
        endpoint: Endpoint,
        fields: tuple[str, ...],
        rule: LookupRule,
        concurrency: int,
    ) -> None:
        if endpoint.paging is None:
            raise ValueError(
                f"endpoint {endpoint.name!r}: its writer finds existing records by reading the "
                "endpoint, so it needs `paging`"
            )
        self.api = api
        self.endpoint = endpoint
        self.paging = endpoint.paging
        self.fields = fields
        self.rule = rule
        self.concurrency = concurrency

    def find(self, identities: Iterable[Identity]) -> Found:
        """The records under each of `identities` (none: an empty list or no entry)."""
        wanted = set(identities)
        found: Found = {}
        with thread_pool(self.concurrency) as pool:
            for records in pool.map(in_this_context(self._read), self._queries(wanted)):
                for record in records:
                    key = identity(record, self.fields)
                    if key in wanted and key is not None:
                        found.setdefault(key, []).append(record)
        return found

    def _queries(self, wanted: set[Identity]) -> list[dict[str, Any]]:
        """One query per list of first-field values, per combination of the other fields."""
        first, *others = (self.rule.params[name] for name in self.fields)
        by_rest: dict[Identity, set[str]] = {}
        for key in wanted:
            by_rest.setdefault(key[1:], set()).add(key[0])
        queries = []
        for rest, firsts in sorted(by_rest.items()):
            fixed = dict(zip(others, rest, strict=True))
            separator = self.rule.separator
            for batch in in_lists(sorted(firsts), self.rule.values, separator=separator):
                value: str | list[str] = separator.join(batch) if separator else batch
                queries.append({**self.rule.extra, **fixed, first: value})
        return queries

    def _read(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        paginator = paginator_for(self.endpoint, self.paging)
        return [
            record
            for page in pages(self.api, self.endpoint, paginator, params)
            for record in page.records
        ]
