"""Finding the current records of many records to write, up to 100 keys per filter.

Records given by id are fetched with `filter[q][id_in]=…`; records given by natural key with the
key's first field as an `_in` filter and its other fields as `_eq` filters, e.g. prices by
`filter[q][sku_code_in]=A,B,…&filter[q][price_list_id_eq]=…`. A value containing a comma
cannot go into an `_in` list, so it is asked for on its own.

A filter of 100 keys costs one request when none of them exists yet and one per page of 25
when all do, so a first load pays a quarter of what 25 keys a request would, and a re-sync the
same. When the keys take more than one filter, one record's page first counts the records the
other fields leave (a price list's prices, or all SKUs): if reading them all takes fewer pages
than the filters would take requests, they are read instead (an empty price list: one). The
requests run on a few threads; the instance's throttle paces them.
"""

from collections.abc import Iterable
from typing import Any

from cartwire.http.client import ApiClient
from cartwire.http.waiting import in_this_context, thread_pool
from cartwire.platforms.commercelayer.records import (
    BATCH,
    IN_VALUES,
    Desired,
    Shape,
    count,
    find_all,
    in_lists,
    linked_id,
)

Identity = tuple[Any, ...]
Found = dict[Identity, list[dict[str, Any]]]


class Lookup:
    def __init__(
        self, api: ApiClient, path: str, shape: Shape, key: tuple[str, ...], concurrency: int
    ) -> None:
        self.api = api
        self.path = path
        self.shape = shape
        self.key = key
        self.concurrency = max(1, concurrency)

    def current(self, records: Iterable[Desired]) -> Found:
        """The platform's records for every identity among `records` ([] when none exists)."""
        by_id: set[str] = set()
        by_key: dict[tuple[str, ...], set[str]] = {}  # other key values → first key values
        include: set[str] = {f for f in self.key if f in self.shape.relationships}
        for desired in records:
            include.update(desired.relationships)
            if desired.id is not None:
                by_id.add(desired.id)
            elif desired.key is not None:
                by_key.setdefault(desired.key[1:], set()).add(desired.key[0])
        queries: list[tuple[dict[str, Any], tuple[str, ...] | None]] = [
            ({"filter[q][id_in]": ",".join(ids)}, None) for ids in in_lists(sorted(by_id))
        ]
        for rest, firsts in by_key.items():
            scope = self._scope(rest)
            if (
                len(firsts) > IN_VALUES
                and count(self.api, self.path, scope) * IN_VALUES <= len(firsts) * BATCH
            ):
                queries.append((scope, rest))
            else:
                queries += [(self._key_query(v, rest), rest) for v in self._lists(firsts)]
        params = {"include": ",".join(sorted(include))} if include else {}
        found: Found = {}
        with thread_pool(self.concurrency) as pool:
            answers = pool.map(
                in_this_context(lambda q: find_all(self.api, self.path, {**params, **q[0]})),
                queries,
            )
            for (_, by), records_found in zip(queries, answers, strict=True):
                for record in records_found:
                    for identity in self._identities(record, by):
                        found.setdefault(identity, []).append(record)
        return found

    def _lists(self, values: set[str]) -> list[list[str]]:
        plain = sorted(v for v in values if "," not in v)
        return [*in_lists(plain), *([v] for v in sorted(values) if "," in v)]

    def _scope(self, rest: tuple[str, ...]) -> dict[str, Any]:
        """The filters of a key's other fields (`price_list_id_eq`)."""
        return {
            f"filter[q][{self.shape.key_param(name)}_eq]": value
            for name, value in zip(self.key[1:], rest, strict=True)
        }

    def _key_query(self, firsts: list[str], rest: tuple[str, ...]) -> dict[str, Any]:
        head = self.shape.key_param(self.key[0])
        predicate = "in" if len(firsts) > 1 or "," not in firsts[0] else "eq"
        return {f"filter[q][{head}_{predicate}]": ",".join(firsts), **self._scope(rest)}

    def _identities(self, record: dict[str, Any], rest: tuple[str, ...] | None) -> list[Identity]:
        identities: list[Identity] = [("id", str(record.get("id")))]
        if rest is not None:  # found by key: its key is the queried one
            first = self.key[0]
            if first in self.shape.relationships:
                value = linked_id(record.get(first))
            else:
                value = None if record.get(first) is None else str(record[first])
            if value is not None:
                identities.append(("key", value, *rest))
        return identities
