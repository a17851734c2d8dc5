"""Writing Commerce Layer records: JSON:API create/PATCH/DELETE, and upsert by natural key.

An upsert takes records a chunk at a time (up to 10,000, one import's worth):
1. parse them (`records.Shape`), resolve relationship codes, and look the current records up
   100 keys a filter, one request per page of what it finds (`lookup.Lookup`);
2. plan each one: create, update (only what differs; an object such as `metadata` merged into
   the current one and sent whole, unless `replace` names it), unchanged, or failed (bad
   record, a key matching several records, an id that does not exist). Several records with
   one key are planned in order, each against the state the previous one leaves;
3. write: record by record (POST/PATCH, a few in flight, paced by the instance's throttle) or,
   when more records need writing than `bulk_threshold` and the type is importable, through
   the Imports API (`imports.ImportRunner`).

An unchanged record makes no request beyond its share of the lookups. A create is a POST, which
the client only repeats after a failure part-way when no record with its natural key exists
(`safe_retry`); if it fails anyway and the record turns out to exist as desired, our first
attempt landed and it counts as created. A create refused because the key was just taken
(409, or 422 `taken`) is planned again against the record that took it.
"""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from cartwire.connectors.schema import Endpoint, key_fields
from cartwire.http.client import ApiClient, SafeRetry
from cartwire.http.errors import ApiError, Conflict, ServerError, Unreachable
from cartwire.http.waiting import in_this_context, thread_pool
from cartwire.platforms.commercelayer.imports import MAX_INPUTS, ImportRunner
from cartwire.platforms.commercelayer.lookup import Found, Lookup
from cartwire.platforms.commercelayer.plans import Plan
from cartwire.platforms.commercelayer.records import Codes, Desired, Shape
from cartwire.resources.jsonapi import flatten
from cartwire.resources.writer import Writer, WriteResult, failure


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class CommerceLayerWriter(Writer):
    """The `commercelayer` write strategy (module docstring). Options from the connector file:
    `type` (default: the path), `relationships` (name: target type), `write_only`,
    `importable`, `import_parent`, `bulk_threshold` (default 100 writes), `concurrency`
    (default 4), `skip_errors` (default true: an import does not stop at 10 % errors),
    `import_size` (inputs per import, at most 10,000), `import_poll_seconds`,
    `import_timeout_seconds`."""

    name = "commercelayer"
    errors = "commercelayer"

    def __init__(self, api: ApiClient, endpoint: Endpoint) -> None:
        super().__init__(api, endpoint)
        options = self.options
        self.shape = Shape(
            type=str(options.get("type", endpoint.path)),
            relationships=dict(options.get("relationships", {})),
            key=key_fields(endpoint.natural_key),
            write_only=frozenset(options.get("write_only", [])),
        )
        self.concurrency = int(options.get("concurrency", 4))
        self.bulk_threshold = int(options.get("bulk_threshold", 100))
        self.codes = Codes(api)
        self.imports: ImportRunner | None = None
        if options.get("importable"):
            self.imports = ImportRunner(
                api,
                self.shape,
                parent=options.get("import_parent"),
                skip_errors=bool(options.get("skip_errors", True)),
                poll=float(options.get("import_poll_seconds", 0.5)),
                timeout=float(options.get("import_timeout_seconds", 3600)),
                size=int(options.get("import_size", MAX_INPUTS)),
            )

    # -- single writes -----------------------------------------------------------------------

    def _parse(
        self, records: list[tuple[int, dict[str, Any]]], key: tuple[str, ...]
    ) -> list[Desired]:
        parsed = [self.shape.parse(index, record, key) for index, record in records]
        self.codes.resolve(self.shape, parsed)
        for desired in parsed:
            self.shape.set_key(desired, key)
            desired.replace = self.replace
        return parsed

    def create(self, record: dict[str, Any]) -> WriteResult:
        """POST the record as it is (no lookup)."""
        desired = self._parse([(0, record)], self.shape.key)[0]
        plan = Plan.create(desired) if desired.problem is None else self._invalid(desired)
        return self._execute(plan)

    def update(self, id_: str, record: dict[str, Any]) -> WriteResult:
        """PATCH what the record gives (no lookup, no comparison)."""
        desired = self._parse([(0, {**record, "id": id_})], ())[0]
        plan = Plan(desired, "update", {"id": id_}, desired.attributes, desired.relationships)
        return self._execute(plan if desired.problem is None else self._invalid(desired))

    def delete(self, id_: str) -> WriteResult:
        try:
            self.api.request("DELETE", f"{self.endpoint.path}/{id_}")
        except ApiError as error:
            return failure(id_, error)
        return WriteResult(id_, "deleted", id=id_)

    @staticmethod
    def _invalid(desired: Desired) -> Plan:
        return Plan.failed(desired, "INVALID_RECORD", desired.problem or "invalid record")

    def _execute(self, plan: Plan, second_try: bool = False) -> WriteResult:
        if plan.action == "create":
            return self._create(plan, second_try)
        if plan.action == "update":
            return self._update(plan)
        return plan.result()

    @staticmethod
    def _linked(desired: Desired) -> dict[str, str]:
        """`include` the relationships a record gives, so the answer links them (and the
        result's record can be compared with the next record of the same key)."""
        return {"include": ",".join(sorted(desired.relationships))} if desired.relationships else {}

    def _create(self, plan: Plan, second_try: bool) -> WriteResult:
        desired = plan.desired
        body = self.shape.document(plan.attributes, plan.relationships)
        safe: SafeRetry = False  # without a key nothing tells whether the POST landed
        if desired.identity is not None and not second_try:
            safe = lambda: not self._lookup([desired]).get(desired.identity or ())  # noqa: E731
        try:
            response = self.api.request(
                "POST", self.endpoint.path, params=self._linked(desired), json=body, safe_retry=safe
            )
        except ApiError as error:
            return failure(desired.label, error) if second_try else self._create_failed(plan, error)
        record = flatten(response.json())
        record_id = None if record is None else str(record.get("id"))
        return WriteResult(desired.label, "created", id=record_id, record=record)

    def _create_failed(self, plan: Plan, error: ApiError) -> WriteResult:
        desired = plan.desired
        taken = isinstance(error, Conflict) or any(
            (e.get("meta") or {}).get("error") == "taken" for e in error.errors
        )
        landed = isinstance(error, ServerError | Unreachable)
        if desired.identity is None or not (taken or landed):
            return failure(desired.label, error)
        again = self._plan([desired], self._lookup([desired]))[0]
        if landed:
            if again.action == "unchanged":  # our first attempt created it after all
                return again.result("created")
            return failure(desired.label, error)
        return self._execute(again, second_try=True)

    def _update(self, plan: Plan) -> WriteResult:
        assert plan.current is not None
        record_id = str(plan.current["id"])
        body = self.shape.document(plan.attributes, plan.relationships, record_id)
        path = f"{self.endpoint.path}/{record_id}"
        try:
            response = self.api.request("PATCH", path, params=self._linked(plan.desired), json=body)
        except ApiError as error:
            return failure(plan.desired.label, error)
        record = flatten(response.json())
        return WriteResult(plan.desired.label, "updated", id=record_id, record=record)

    # -- upsert ------------------------------------------------------------------------------

    def upsert(
        self, records: Iterable[dict[str, Any]], key: str | None = None, *, dry_run: bool = False
    ) -> Iterator[WriteResult]:
        fields = key_fields(key) if key else self.shape.key
        for chunk in batches(enumerate(records), MAX_INPUTS):
            yield from self._upsert_chunk(chunk, fields, dry_run)

    def _lookup(self, records: list[Desired], key: tuple[str, ...] | None = None) -> Found:
        fields = self.shape.key if key is None else key
        lookup = Lookup(self.api, self.endpoint.path, self.shape, fields, self.concurrency)
        return lookup.current(records)

    def _upsert_chunk(
        self, chunk: list[tuple[int, dict[str, Any]]], key: tuple[str, ...], dry_run: bool
    ) -> list[WriteResult]:
        parsed = self._parse(chunk, key)
        found = self._lookup([d for d in parsed if d.problem is None and d.identity], key)
        plans = self._plan(parsed, found)
        if dry_run:
            return [p.result() for p in plans]
        writes = [p for p in plans if p.action in ("create", "update")]
        results = {
            p.desired.index: p.result() for p in plans if p.action in ("unchanged", "failed")
        }
        if self.imports is not None and len(writes) > self.bulk_threshold:
            results.update(self.imports.run(writes, lambda ds: self._lookup(ds, key)))
        else:
            results.update(self._write_each(writes))
        return [results[index] for index, _ in chunk]

    def _plan(self, parsed: list[Desired], found: Found) -> list[Plan]:
        """Plans in input order; a later record with the same identity is compared with the
        state the earlier one leaves."""
        state: dict[Any, dict[str, Any] | None] = {}
        plans = []
        for desired in parsed:
            plan = self._plan_one(desired, found, state)
            identity = desired.identity
            if identity is not None and plan.action != "failed":
                after = self.shape.merged(plan.current, plan.attributes, plan.relationships)
                state[identity] = after
            plans.append(plan)
        return plans

    def _plan_one(
        self, desired: Desired, found: Found, state: dict[Any, dict[str, Any] | None]
    ) -> Plan:
        identity = desired.identity
        if desired.problem is not None:
            return self._invalid(desired)
        if identity is None:
            return Plan.create(desired)
        if identity in state:
            current = state[identity]
        else:
            matches = found.get(identity, [])
            if len(matches) > 1:
                message = f"{len(matches)} records have the key {desired.label!r}"
                return Plan.failed(desired, "AMBIGUOUS_KEY", message)
            current = matches[0] if matches else None
        if current is None and desired.id is not None:
            return Plan.failed(desired, "RECORD_NOT_FOUND", f"no record {desired.id}")
        if current is None:
            return Plan.create(desired)
        return Plan.against(desired, current, self.shape.changes(desired, current))

    def _write_each(self, plans: list[Plan]) -> dict[int, WriteResult]:
        """Record by record, a few at once; one identity's records one after another, each
        compared with what the previous one left."""
        groups: dict[Any, list[Plan]] = {}
        for plan in plans:
            identity = plan.desired.identity or ("row", plan.desired.index)
            groups.setdefault(identity, []).append(plan)
        results: dict[int, WriteResult] = {}

        def run(group: list[Plan]) -> None:
            latest: dict[str, Any] | None = None
            for plan in group:
                if latest is not None:
                    changes = self.shape.changes(plan.desired, latest)
                    plan = Plan.against(plan.desired, latest, changes)
                result = results[plan.desired.index] = self._execute(plan)
                latest = result.record

        with thread_pool(self.concurrency) as pool:
            list(pool.map(in_this_context(run), groups.values()))
        return results
