"""In-memory records per resource type, with the indexes that keep big catalogues fast.

Per type: records in creation order (the default list order), a sorted id list (keyset walks
with `sort=id` + `id_gt` are a bisect and a short slice), one hash index per uniqueness rule,
and per to-one relationship an index target id → referring ids (to-many relationships, related
endpoints, `*_id` filters and cascading deletes). The store knows nothing about HTTP or
validation; it only keeps records and indexes consistent.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Any

from .clock import Clock
from .ids import IdGenerator
from .schema import RESOURCES, Resource, Unique, referrers

UniqueKey = tuple[Any, ...]


class Record:
    __slots__ = ("attrs", "created_at", "id", "rels", "seq", "type", "updated_at")

    def __init__(
        self,
        type_: str,
        id_: str,
        seq: int,
        attrs: dict[str, Any],
        rels: dict[str, str | None],
        created_at: int,
    ) -> None:
        self.type = type_
        self.id = id_
        self.seq = seq
        self.attrs = attrs
        self.rels = rels
        self.created_at = created_at
        self.updated_at = created_at


class DeleteRestricted(Exception):
    """Deleting would orphan records whose relationship forbids it."""


class Table:
    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.records: dict[str, Record] = {}
        self.sorted_ids: list[str] = []
        self.unique: list[tuple[Unique, dict[UniqueKey, str]]] = [
            (rule, {}) for rule in resource.unique
        ]
        self.by_relationship: dict[str, dict[str, dict[str, None]]] = {
            rel.name: {} for rel in resource.has_one
        }
        self.next_number = 1

    def __len__(self) -> int:
        return len(self.records)

    def unique_key(
        self, rule: Unique, attrs: dict[str, Any], rels: dict[str, str | None]
    ) -> UniqueKey | None:
        """The index key of a record under `rule`; None when a field is empty (not indexed)."""
        key: list[Any] = []
        for name in rule.fields:
            value = rels.get(name) if name in self.resource.has_one_map else attrs.get(name)
            if value is None or value == "":
                return None
            if rule.case_insensitive and isinstance(value, str):
                value = value.lower()
            key.append(value)
        return tuple(key)

    def add_to_indexes(self, record: Record) -> None:
        for rule, index in self.unique:
            key = self.unique_key(rule, record.attrs, record.rels)
            if key is not None:
                index[key] = record.id
        for name, target in record.rels.items():
            if target is not None:
                self.by_relationship[name].setdefault(target, {})[record.id] = None

    def remove_from_indexes(self, record: Record) -> None:
        for rule, index in self.unique:
            key = self.unique_key(rule, record.attrs, record.rels)
            if key is not None and index.get(key) == record.id:
                del index[key]
        for name, target in record.rels.items():
            if target is not None:
                referring = self.by_relationship[name].get(target)
                if referring is not None:
                    referring.pop(record.id, None)
                    if not referring:
                        del self.by_relationship[name][target]

    def referring(self, relationship: str, target_id: str) -> list[Record]:
        """Records whose `relationship` points at `target_id`, in creation order."""
        ids = self.by_relationship[relationship].get(target_id)
        if not ids:
            return []
        found = [self.records[i] for i in ids]
        found.sort(key=lambda r: r.seq)
        return found

    def find_unique(self, fields: tuple[str, ...], values: tuple[Any, ...]) -> Record | None:
        for rule, index in self.unique:
            if rule.fields == fields:
                key = tuple(
                    v.lower() if rule.case_insensitive and isinstance(v, str) else v for v in values
                )
                found = index.get(key)
                return None if found is None else self.records[found]
        raise KeyError(fields)

    def conflicts(
        self, attrs: dict[str, Any], rels: dict[str, str | None], exclude: str | None
    ) -> list[Unique]:
        """The uniqueness rules a record with these values would break."""
        broken = []
        for rule, index in self.unique:
            key = self.unique_key(rule, attrs, rels)
            if key is not None and index.get(key, exclude) != exclude:
                broken.append(rule)
        return broken


class Store:
    def __init__(self, clock: Clock, ids: IdGenerator) -> None:
        self.clock = clock
        self.ids = ids
        self.tables: dict[str, Table] = {r.type: Table(r) for r in RESOURCES}
        self._seq = 0

    def table(self, resource_type: str) -> Table:
        return self.tables[resource_type]

    def get(self, resource_type: str, record_id: str | None) -> Record | None:
        table = self.tables.get(resource_type)
        if table is None or record_id is None:
            return None
        return table.records.get(record_id)

    def new_id(self, resource_type: str) -> str:
        records = self.tables[resource_type].records
        while True:
            candidate = self.ids.new()
            if candidate not in records:
                return candidate

    def insert(
        self,
        resource_type: str,
        attrs: dict[str, Any],
        rels: dict[str, str | None],
        record_id: str | None = None,
    ) -> Record:
        table = self.tables[resource_type]
        self._seq += 1
        record = Record(
            resource_type,
            record_id or self.new_id(resource_type),
            self._seq,
            attrs,
            rels,
            self.clock.tick(),
        )
        table.records[record.id] = record
        bisect.insort(table.sorted_ids, record.id)
        table.add_to_indexes(record)
        return record

    def insert_many(
        self,
        resource_type: str,
        rows: Iterable[tuple[str | None, dict[str, Any], dict[str, str | None]]],
        count: int,
        instant: int | None = None,
    ) -> list[Record]:
        """Bulk insert: one clock reservation and one sort of the id index for the batch.

        `instant` (ms) gives every record that one creation time instead of its own tick.
        """
        table = self.tables[resource_type]
        created = []
        stamps = self.clock.ticks(count) if instant is None else [instant] * count
        for (record_id, attrs, rels), stamp in zip(rows, stamps, strict=True):
            self._seq += 1
            record = Record(
                resource_type,
                record_id or self.new_id(resource_type),
                self._seq,
                attrs,
                rels,
                stamp,
            )
            table.records[record.id] = record
            table.add_to_indexes(record)
            created.append(record)
        table.sorted_ids.extend(r.id for r in created)
        table.sorted_ids.sort()
        return created

    def update(
        self,
        record: Record,
        attrs: dict[str, Any],
        rels: dict[str, str | None],
        *,
        touch: bool = True,
    ) -> None:
        """Replace attribute and relationship values, keeping the indexes right."""
        table = self.tables[record.type]
        table.remove_from_indexes(record)
        record.attrs.update(attrs)
        record.rels.update(rels)
        table.add_to_indexes(record)
        if touch:
            record.updated_at = self.clock.tick()

    def touch(self, record: Record) -> None:
        record.updated_at = self.clock.tick()

    def delete(self, record: Record) -> list[Record]:
        """Delete `record` and what cascades from it; refuse if a restricting record remains."""
        doomed: dict[tuple[str, str], Record] = {}
        self._collect_cascade(record, doomed)
        for victim in doomed.values():
            for resource, rel in referrers(victim.type):
                if rel.on_target_delete != "restrict":
                    continue
                for other in self.tables[resource.type].referring(rel.name, victim.id):
                    if (other.type, other.id) not in doomed:
                        raise DeleteRestricted(
                            f"Cannot delete record because dependent {resource.type} exist"
                        )
        for victim in doomed.values():
            for resource, rel in referrers(victim.type):
                if rel.on_target_delete == "nullify":
                    for other in self.tables[resource.type].referring(rel.name, victim.id):
                        if (other.type, other.id) not in doomed:
                            self.update(other, {}, {rel.name: None}, touch=False)
        for victim in doomed.values():
            table = self.tables[victim.type]
            table.remove_from_indexes(victim)
            del table.records[victim.id]
            position = bisect.bisect_left(table.sorted_ids, victim.id)
            del table.sorted_ids[position]
        return list(doomed.values())

    def _collect_cascade(self, record: Record, doomed: dict[tuple[str, str], Record]) -> None:
        if (record.type, record.id) in doomed:
            return
        doomed[(record.type, record.id)] = record
        for resource, rel in referrers(record.type):
            if rel.on_target_delete == "cascade":
                for child in self.tables[resource.type].referring(rel.name, record.id):
                    self._collect_cascade(child, doomed)

    def all(self, resource_type: str) -> Iterator[Record]:
        return iter(self.tables[resource_type].records.values())
