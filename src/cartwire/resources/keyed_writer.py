"""Upserts by natural key into an API that the connector file describes, with no platform code.

For each chunk of records:
1. each record's key (`natural_key`, one field or several) is read; a record without one fails;
2. the records the destination has under those keys are looked up, many keys a request where
   the API takes lists (`key_lookup`);
3. each record is planned against what was found: create; update of just the fields that
   differ (an object merged into the destination's, `nested`; values compared as the API
   stores them, `stored_values`); unchanged, which makes no write at all, so a re-run writes
   nothing; or failed (several records under one key). Records sharing a key are planned and
   written one after the other, each against what the one before left;
4. the writes run a few at a time (`concurrency`), paced by the instance's throttles.

A create is a POST, repeated after a failure part-way only when a lookup still finds no record
under its key (`safe_retry`); one refused with 409 (the key was just taken) is planned again
against the record that took it. What the requests look like and how their answers read is the
subclass's: plain JSON (`rest_writer`) or JSON:API (`jsonapi_writer`).
"""

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from string import Formatter
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from cartwire.connectors.schema import Endpoint, key_fields
from cartwire.http.client import ApiClient
from cartwire.http.errors import ApiError, Conflict
from cartwire.http.waiting import in_this_context, thread_pool
from cartwire.resources.key_lookup import Found, Identity, KeyLookup, LookupRule, identity
from cartwire.resources.nested import written
from cartwire.resources.stored_values import same
from cartwire.resources.writer import Change, Outcome, Writer, WriteResult, failure

CHUNK = 500  # records looked up together, then written before the next chunk is looked up
DEFAULT_CONCURRENCY = 4
Action = Literal["create", "update", "unchanged", "failed"]


class RecordProblem(ValueError):
    """The record cannot be written as given (reported as its failed WriteResult)."""


class Options:
    """A writer's options from the connector file, each checked as it is read, with the path
    of the key in the error (`endpoints[skus].write.options.update_method: …`)."""

    def __init__(self, endpoint: Endpoint, known: frozenset[str]) -> None:
        self.endpoint = endpoint
        self.given = endpoint.write.options if endpoint.write else {}
        strategy = endpoint.write.strategy if endpoint.write else "?"
        unknown = sorted(set(self.given) - known)
        if unknown:
            raise ValueError(
                f"{self.where()}: the {strategy} writer has no option "
                f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})"
            )

    def where(self, name: str | None = None) -> str:
        base = f"endpoint {self.endpoint.name!r}: write.options"
        return f"{base}.{name}" if name else base

    def problem(self, name: str, text: str) -> ValueError:
        return ValueError(f"{self.where(name)}: {text}")

    def text(self, name: str, default: str | None) -> str | None:
        value = self.given.get(name, default)
        if value is not None and not isinstance(value, str):
            raise self.problem(name, f"expected a string, got {value!r}")
        return value

    def count(self, name: str, default: int) -> int:
        value = self.given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.problem(name, f"expected a whole number of at least 1, got {value!r}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.given.get(name, default)
        if value not in choices:
            raise self.problem(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def names(self, name: str) -> frozenset[str]:
        value = self.given.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.problem(name, f"expected a list of field names, got {value!r}")
        return frozenset(value)

    def mapping(self, name: str) -> dict[str, str]:
        value = self.given.get(name, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.problem(name, f"expected a mapping of names to strings, got {value!r}")
        return dict(value)

    def template(self, name: str, default: str, fields: frozenset[str]) -> str:
        value = self.text(name, default) or default
        unknown = {f for _, f, _, _ in Formatter().parse(value) if f} - fields
        if unknown:
            raise self.problem(
                name, f"{value!r} names {sorted(unknown)}; it may use {sorted(fields)}"
            )
        return value


@dataclass
class Planned:
    """One record to write and what the upsert decided for it."""

    index: int
    label: str | None
    identity: Identity | None
    fields: dict[str, Any]  # what the record sets (never-written fields left out)
    action: Action = "create"
    current: dict[str, Any] | None = None
    changes: tuple[Change, ...] = ()  # an update's fields: each one's value now and to send
    code: str | None = None
    message: str | None = None

    def fail(self, code: str, message: str) -> "Planned":
        self.action, self.code, self.message = "failed", code, message
        return self

    def result(self, id_field: str) -> WriteResult:
        """What a dry run, an unchanged or an invalid record comes to."""
        if self.action == "failed":
            return WriteResult(self.label, "failed", code=self.code, message=self.message)
        if self.action == "create":
            return WriteResult(self.label, "created", message="dry run")
        outcome: Outcome = "updated" if self.action == "update" else "unchanged"
        found = None if self.current is None else self.current.get(id_field)
        changes = self.changes if self.action == "update" else None
        record_id = None if found is None else str(found)
        return WriteResult(self.label, outcome, record_id, record=self.current, changes=changes)


class KeyedWriter(Writer):
    """The upsert (module docstring); a subclass says what its requests send and answers hold.

    Options every such writer takes: `lookup_param` (the query parameter the key's values are
    sent in; a mapping field → parameter for a composite key), `lookup_values` (keys a lookup
    may ask for at once, default 1), `lookup_separator` (between them, default `,`; null sends
    the parameter once per value), `item_path` (a record's path, default `{path}/{id}`),
    `read_only` (fields never sent nor compared), `write_only` (fields sent on create only,
    never read back: a password), `concurrency` (requests in flight, default 4)."""

    known_options: ClassVar[frozenset[str]] = frozenset(
        {
            "lookup_param",
            "lookup_values",
            "lookup_separator",
            "item_path",
            "read_only",
            "write_only",
            "concurrency",
        }
    )
    # Headers of the writes (a JSON:API media type).
    write_headers: ClassVar[dict[str, str]] = {}
    id_field = "id"  # where a record holds the destination's id

    def __init__(self, api: ApiClient, endpoint: Endpoint) -> None:
        super().__init__(api, endpoint)
        options = Options(endpoint, self.known_options)
        self.configure(options)
        self.key = key_fields(endpoint.natural_key)
        self.concurrency = options.count("concurrency", DEFAULT_CONCURRENCY)
        self.collection = endpoint.path.split("?", 1)[0].rstrip("/")
        self.item_path = options.template("item_path", "{path}/{id}", frozenset({"path", "id"}))
        self.read_only = options.names("read_only")
        self.write_only = options.names("write_only")
        self.lookup_params = self._lookup_params(options)
        self.lookup_values = options.count("lookup_values", 1)
        self.lookup_separator = options.text("lookup_separator", ",")
        if self.lookup_separator == "":
            raise options.problem("lookup_separator", "expected a separator or null, got ''")
        self.lookup = self._lookup(self.key)

    def _lookup_params(self, options: Options) -> dict[str, str]:
        given = options.given.get("lookup_param")
        if given is None or isinstance(given, dict):
            return options.mapping("lookup_param")
        if len(self.key) != 1:
            raise options.problem(
                "lookup_param",
                f"the natural key has several fields ({', '.join(self.key)}): "
                "give a mapping of each field to its parameter",
            )
        return {self.key[0]: str(options.text("lookup_param", None))}

    # -- what a subclass says ----------------------------------------------------------------

    def configure(self, options: Options) -> None:
        """Read the subclass's own options (before the lookup is set up, which may use them)."""

    @abstractmethod
    def lookup_param(self, name: str) -> str:
        """The query parameter a key field's values go in when the options name none."""

    def lookup_extra(self) -> dict[str, Any]:
        """Parameters every lookup sends besides the key's (e.g. JSON:API `include`)."""
        return {}

    def fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """What the record sets: every field but the id and the read-only ones (an id from
        another system must not be sent; the key finds the destination's record). Raises
        `RecordProblem` for a record this writer cannot send."""
        return {
            name: value
            for name, value in record.items()
            if name not in self.read_only and name != self.id_field
        }

    def change(self, name: str, current: Mapping[str, Any], value: Any) -> Change | None:
        """How writing `value` to field `name` changes `current` (None: it does not): an
        object merges into the one there unless `replace` names it."""
        old = current.get(name)
        after = written(name, old, value, self.replace)
        return None if same(old, after) else Change(name, old, after)

    @abstractmethod
    def create_body(self, fields: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def update_request(
        self, record_id: str, current: Mapping[str, Any] | None, changes: Mapping[str, Any]
    ) -> tuple[str, Any]:
        """(method, body) of an update setting `changes` over `current` (None: not read)."""

    @abstractmethod
    def record_of(self, body: Any) -> dict[str, Any] | None:
        """The record in a write's answer (None when the answer holds none)."""

    # -- single writes -----------------------------------------------------------------------

    def path_of(self, record_id: str) -> str:
        return self.item_path.format(path=self.collection, id=quote(record_id, safe=""))

    def create(self, record: dict[str, Any]) -> WriteResult:
        """POST the record as it is (no lookup)."""
        planned = self._planned(0, record, self.key)
        if planned.action == "failed":
            return planned.result(self.id_field)
        return self._create(planned, self.lookup if planned.identity else None)

    def update(self, id_: str, record: dict[str, Any]) -> WriteResult:
        """Send what the record gives to the record `id_` (no lookup, no comparison)."""
        label = self._label(identity(record, self.key)) or id_
        try:
            given = self.fields(record)
        except RecordProblem as problem:
            return WriteResult(label, "failed", code="INVALID_RECORD", message=str(problem))
        return self._send_update(label, id_, None, given, ())

    def delete(self, id_: str) -> WriteResult:
        try:
            self.api.request("DELETE", self.path_of(id_))
        except ApiError as error:
            return failure(id_, error)
        return WriteResult(id_, "deleted", id=id_)

    # -- upsert ------------------------------------------------------------------------------

    def upsert(
        self, records: Iterable[dict[str, Any]], key: str | None = None, *, dry_run: bool = False
    ) -> Iterator[WriteResult]:
        fields = key_fields(key) if key else self.key
        if not fields:
            raise ValueError(
                f"endpoint {self.endpoint.name!r} has no natural_key, and the write names none"
            )
        lookup = self.lookup if fields == self.key else self._lookup(fields)
        iterator = enumerate(records)
        while chunk := list(islice(iterator, CHUNK)):
            yield from self._upsert_chunk(chunk, fields, lookup, dry_run)

    def _lookup(self, fields: tuple[str, ...]) -> KeyLookup:
        params = {name: self.lookup_params.get(name) or self.lookup_param(name) for name in fields}
        rule = LookupRule(params, self.lookup_values, self.lookup_separator, self.lookup_extra())
        return KeyLookup(self.api, self.endpoint, fields, rule, self.concurrency)

    def _label(self, key: Identity | None) -> str | None:
        return "/".join(key) if key else None

    def _planned(self, index: int, record: Mapping[str, Any], fields: tuple[str, ...]) -> Planned:
        key = identity(record, fields)
        try:
            given = self.fields(record)
        except RecordProblem as problem:
            return Planned(index, self._label(key), key, {}).fail("INVALID_RECORD", str(problem))
        return Planned(index, self._label(key), key, given)

    def _upsert_chunk(
        self,
        chunk: list[tuple[int, dict[str, Any]]],
        fields: tuple[str, ...],
        lookup: KeyLookup,
        dry_run: bool,
    ) -> list[WriteResult]:
        groups: dict[Identity, list[Planned]] = {}
        results: dict[int, WriteResult] = {}
        for index, record in chunk:
            planned = self._planned(index, record, fields)
            if planned.action == "failed":
                results[index] = planned.result(self.id_field)
            elif planned.identity is None:
                message = f"the record has no {', '.join(fields)} to match it by"
                results[index] = planned.fail("NO_KEY", message).result(self.id_field)
            else:
                groups.setdefault(planned.identity, []).append(planned)
        found = lookup.find(groups)

        def run(group: list[Planned]) -> None:
            state = _Found(found)
            for planned in group:
                self._plan(planned, state)
                if dry_run or planned.action in ("unchanged", "failed"):
                    result = planned.result(self.id_field)
                else:
                    result = self._execute(planned, lookup)
                results[planned.index] = result
                if not result.failed:
                    state.left(planned, None if dry_run else result.record, self)

        with thread_pool(1 if dry_run else self.concurrency) as pool:
            list(pool.map(in_this_context(run), groups.values()))
        return [results[index] for index, _ in chunk]

    def _plan(self, planned: Planned, state: "_Found") -> None:
        assert planned.identity is not None
        matches = state.of(planned.identity)
        if len(matches) > 1:
            message = f"{len(matches)} records have the key {planned.label!r}"
            planned.fail("AMBIGUOUS_KEY", message)
            return
        if not matches:
            planned.action, planned.current, planned.changes = "create", None, ()
            return
        current = planned.current = matches[0]
        changes = [
            change
            for name, value in planned.fields.items()
            if name not in self.write_only and (change := self.change(name, current, value))
        ]
        planned.changes = tuple(changes)
        planned.action = "update" if changes else "unchanged"

    def _execute(self, planned: Planned, lookup: KeyLookup | None = None) -> WriteResult:
        if planned.action == "update":
            assert planned.current is not None
            found = planned.current.get(self.id_field)
            if found is None:
                message = f"the destination's record has no {self.id_field} to address it by"
                return planned.fail("NO_ID", message).result(self.id_field)
            record_id = str(found)
            sent = {change.field: change.new for change in planned.changes}
            return self._send_update(
                planned.label, record_id, planned.current, sent, planned.changes
            )
        return self._create(planned, lookup)

    def _create(
        self, planned: Planned, lookup: KeyLookup | None, second_try: bool = False
    ) -> WriteResult:
        key = planned.identity

        def absent() -> bool:  # asked just before a POST that may have landed is repeated
            return lookup is not None and key is not None and not lookup.find([key]).get(key)

        safe = absent if lookup is not None and key is not None and not second_try else False
        try:
            response = self.api.request(
                "POST",
                self.collection,
                json=self.create_body(planned.fields),
                headers=self.write_headers,
                safe_retry=safe,
            )
        except Conflict as error:
            if second_try or lookup is None or key is None:
                return failure(planned.label, error)
            self._plan(planned, _Found(lookup.find([key])))  # against the record that took it
            if planned.action == "create":
                return failure(planned.label, error)
            if planned.action != "update":
                return planned.result(self.id_field)
            return self._execute(planned)
        except ApiError as error:
            return failure(planned.label, error)
        record = self._answer(response)
        record_id = None if record is None else record.get(self.id_field)
        return WriteResult(
            planned.label,
            "created",
            None if record_id is None else str(record_id),
            record=record,
        )

    def _send_update(
        self,
        label: str | None,
        record_id: str,
        current: Mapping[str, Any] | None,
        sent: Mapping[str, Any],
        changes: tuple[Change, ...],
    ) -> WriteResult:
        method, body = self.update_request(record_id, current, sent)
        try:
            response = self.api.request(
                method, self.path_of(record_id), json=body, headers=self.write_headers
            )
        except ApiError as error:
            return failure(label, error)
        record = self._answer(response)
        return WriteResult(label, "updated", record_id, record=record, changes=changes or None)

    def _answer(self, response: httpx.Response) -> dict[str, Any] | None:
        if not response.content:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return self.record_of(body)

    def after(self, current: Mapping[str, Any] | None, planned: Planned) -> dict[str, Any]:
        """The record as a write leaves it, when its answer does not say."""
        state = dict(current or {})
        if planned.action == "create":
            state.update(planned.fields)
        for change in planned.changes:
            state[change.field] = change.new
        return state


@dataclass
class _Found:
    """What one key's records are, as the records before in the same batch left them."""

    found: Found
    latest: dict[Identity, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, key: Identity) -> list[dict[str, Any]]:
        return self.latest[key] if key in self.latest else self.found.get(key, [])

    def left(self, planned: Planned, answered: dict[str, Any] | None, writer: KeyedWriter) -> None:
        """After `planned` (the record the write answered with, if any), its key holds one
        record: the answer, or what the plan makes of the one before."""
        if planned.identity is not None:
            after = answered if answered is not None else writer.after(planned.current, planned)
            self.latest[planned.identity] = [after]
