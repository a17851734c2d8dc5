"""Upserts into commercetools as sync-java makes them: look up, diff, send only what differs.

For each batch of records: references given by key are resolved to ids, the current resources
are looked up by natural key in bulk (`where=key in (…)`), and each record is compared with its
current resource. A record that has not changed makes no request at all; one that has changed
sends exactly the update actions that differ, with the `version` the platform last returned. A
409 `ConcurrentModification` (someone else wrote in between) re-reads the resource and diffs
again, a bounded number of times. Records of a batch are written concurrently (bounded here, and
by the instance's rate limit and pool in the `ApiClient`); records sharing a natural key are
written one after the other, so a batch never creates the same record twice.

The work is asyncio; the synchronous methods run it on a private event loop.
"""

import asyncio
import itertools
from abc import abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.errors import ApiError, Conflict
from cartwire.platforms.commercetools.changes import Scoped, changes
from cartwire.platforms.commercetools.compare import Action, Json
from cartwire.platforms.commercetools.errors import classify
from cartwire.platforms.commercetools.lookup import (
    NaturalKey,
    References,
    batches,
    collection,
    find,
)
from cartwire.platforms.commercetools.paging import in_predicate
from cartwire.resources.writer import Writer, WriteResult

T = TypeVar("T")

DEFAULT_CONCURRENCY = 8
DEFAULT_CHUNK = 500
DEFAULT_CONFLICT_RETRIES = 3


class DraftError(ValueError):
    """A record this writer cannot turn into a draft or update actions (e.g. a variant without
    a SKU to match it by); reported as that record's failure."""


class CtWriter(Writer):
    """A commercetools collection written by diff. Subclasses say which actions a difference
    takes (`actions`); everything else — look-ups, versions, conflicts, concurrency — is here.

    Write options (connector file): `concurrency` (requests in flight, default 8), `chunk`
    (records looked up together, default 500), `conflict_retries` (default 3), `lookup_path`
    (where existing records are read, when it is not the endpoint's path, e.g. `orders` for
    `orders/import`).
    """

    type_id: ClassVar[str]  # the resource's typeId, for references to records just created
    errors = "commercetools"

    def __init__(self, api: ApiClient, endpoint: Endpoint) -> None:
        super().__init__(api, endpoint)
        self.concurrency = int(self.options.get("concurrency", DEFAULT_CONCURRENCY))
        self.chunk = int(self.options.get("chunk", DEFAULT_CHUNK))
        self.conflict_retries = int(self.options.get("conflict_retries", DEFAULT_CONFLICT_RETRIES))
        self.resources = collection(str(self.options.get("lookup_path", endpoint.path)))
        self.natural_key = NaturalKey.parse(endpoint.natural_key or "key")
        self.references = References(api)

    # -- what a resource type says -------------------------------------------------------------

    @abstractmethod
    def actions(self, current: Json, desired: Json) -> list[Action]:
        """The update actions that make `current` what `desired` (a draft, references by id
        where they resolved) says; none when nothing differs."""

    def setters_in(self, current: Json) -> Scoped:
        """The `Setter`s behind `actions`, each with the part of `current` its field is in, by
        action name: what tells a dry run's changes field by field (`changes.changes`)."""
        return {}

    def draft(self, desired: Json) -> Json:
        """The body that creates `desired`."""
        return desired

    def created(self, body: Json) -> Json:
        """The resource in a create's response."""
        return body

    # -- synchronous API -------------------------------------------------------------------------

    def upsert(
        self, records: Iterable[dict[str, Any]], key: str | None = None, *, dry_run: bool = False
    ) -> Iterator[WriteResult]:
        return _blocking_iter(self.api, self.aupsert(records, key, dry_run=dry_run))

    def create(self, record: dict[str, Any]) -> WriteResult:
        return _blocking(self.api, lambda: self.acreate(record))

    def update(self, id_: str, record: dict[str, Any]) -> WriteResult:
        return _blocking(self.api, lambda: self.aupdate(id_, record))

    def delete(self, id_: str) -> WriteResult:
        return _blocking(self.api, lambda: self.adelete(id_))

    # -- asynchronous API ------------------------------------------------------------------------

    async def aupsert(
        self, records: Iterable[dict[str, Any]], key: str | None = None, *, dry_run: bool = False
    ) -> AsyncGenerator[WriteResult, None]:
        """Each record created, updated or left unchanged by `key` (default: the endpoint's
        natural key); results in the order of the records."""
        natural = NaturalKey.parse(key) if key else self.natural_key
        # A chunk is looked up only once the one before it is written, so a key that appears
        # again in a later chunk finds what the earlier one created.
        iterator = iter(records)
        while chunk := list(itertools.islice(iterator, self.chunk)):
            for result in await self._upsert_chunk(chunk, natural, dry_run):
                yield result

    async def acreate(self, record: dict[str, Any]) -> WriteResult:
        label = self.natural_key.label(record)
        try:
            await self.references.resolve([record])
            created = await self._create(self.references.canonical(record), self.natural_key)
        except (ApiError, DraftError) as exc:
            return failed(label, exc)
        return WriteResult(label, "created", created["id"], record=created)

    async def aupdate(self, id_: str, record: dict[str, Any]) -> WriteResult:
        label = self.natural_key.label(record)
        try:
            await self.references.resolve([record])
            current = await self._get(id_)
            result, _ = await self._apply(current, self.references.canonical(record), label)
        except (ApiError, DraftError) as exc:
            return failed(label, exc, id_)
        return result

    async def adelete(self, id_: str) -> WriteResult:
        """Delete with the current version; a concurrent change re-reads it and tries again."""
        try:
            current = await self._get(id_)
            for attempt in itertools.count():
                try:
                    await self.api.arequest(
                        "DELETE",
                        f"{self.resources.path}/{id_}",
                        params={"version": current["version"]},
                    )
                    break
                except Conflict as exc:
                    if not _concurrent(exc) or attempt >= self.conflict_retries:
                        raise
                    current = await self._get(id_)
        except ApiError as exc:
            return failed(None, exc, id_)
        return WriteResult(self.natural_key.label(current), "deleted", id_, record=current)

    # -- the work --------------------------------------------------------------------------------

    async def _upsert_chunk(
        self, records: list[Json], natural: NaturalKey, dry_run: bool
    ) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(records)
        await self.references.resolve(records)
        desired = [self.references.canonical(r) for r in records]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, record in enumerate(desired):
            if natural.lookup_value(record) is None:
                message = f"the record has no {natural.lookup_field} to match it by"
                results[i] = WriteResult(natural.label(records[i]), "failed", message=message)
            else:
                groups.setdefault(natural.of(record), []).append(i)
        lookups = [natural.lookup_value(desired[ix[0]]) or "" for ix in groups.values()]
        existing = await self._existing(natural, lookups)
        slots = asyncio.Semaphore(self.concurrency)

        async def write_group(key: tuple[Any, ...], indexes: list[int]) -> None:
            current = existing.get(key)
            for i in indexes:  # same key: one after the other, each seeing the last's result
                async with slots:
                    results[i], current = await self._upsert_one(
                        current, desired[i], natural, natural.label(records[i]), dry_run
                    )

        await asyncio.gather(*(write_group(k, ix) for k, ix in groups.items()))
        return [r for r in results if r is not None]

    async def _existing(
        self, natural: NaturalKey, values: list[str]
    ) -> dict[tuple[Any, ...], Json]:
        """The current resources whose natural key is among `values`, by natural key."""
        found: dict[tuple[Any, ...], Json] = {}

        async def one_batch(batch: list[str]) -> None:
            async for record in find(self.api, self.resources, natural.lookup_field, batch):
                found[natural.of(record)] = record

        await asyncio.gather(*(one_batch(b) for b in batches(sorted(set(values)))))
        return found

    async def _upsert_one(
        self,
        current: Json | None,
        desired: Json,
        natural: NaturalKey,
        label: str | None,
        dry_run: bool,
    ) -> tuple[WriteResult, Json | None]:
        try:
            if current is None:
                if dry_run:
                    self.draft(desired)  # a record that cannot be a draft fails a dry run too
                    return WriteResult(label, "created", message="dry run"), None
                created = await self._create(desired, natural)
                return WriteResult(label, "created", created["id"], record=created), created
            if dry_run:
                actions = self._diff(current, desired)
                if not actions:
                    return WriteResult(label, "unchanged", current["id"], record=current), current
                names = ", ".join(a["action"] for a in actions)
                result = WriteResult(
                    label,
                    "updated",
                    current["id"],
                    message=f"dry run: {names}",
                    changes=changes(actions, self.setters_in(current), current),
                )
                return result, current
            result, after = await self._apply(current, desired, label)
            return result, after
        except (ApiError, DraftError) as exc:
            return failed(label, exc, current["id"] if current else None), current

    async def _apply(
        self, current: Json, desired: Json, label: str | None
    ) -> tuple[WriteResult, Json]:
        """Send the actions that differ; on a concurrent modification re-read and diff again."""
        for attempt in itertools.count():
            actions = self._diff(current, desired)
            if not actions:  # (after a conflict: someone else already made it so)
                return WriteResult(label, "unchanged", current["id"], record=current), current
            body = {"version": current["version"], "actions": actions}
            try:
                # A repeat is harmless: with the same version it applies once or gets a 409.
                response = await self.api.arequest(
                    "POST", f"{self.resources.path}/{current['id']}", json=body, safe_retry=True
                )
            except Conflict as exc:
                if not _concurrent(exc) or attempt >= self.conflict_retries:
                    raise
                current = await self._get(current["id"])
                continue
            after: Json = response.json()
            return WriteResult(label, "updated", after["id"], record=after), after
        raise AssertionError("unreachable")

    def _diff(self, current: Json, desired: Json) -> list[Action]:
        """`actions`, with a record of the wrong shape (an attribute without a name, a list
        where an object belongs) failing as that record's error rather than the whole upsert's."""
        try:
            return self.actions(current, desired)
        except (KeyError, TypeError, AttributeError) as exc:
            raise DraftError(f"the record does not have the shape of a draft: {exc!r}") from exc

    async def _create(self, desired: Json, natural: NaturalKey) -> Json:
        """POST the draft; repeated after a lost answer only if the record still does not exist.

        `ApiClient` runs that check just before a repeat and it is synchronous, so the create
        runs in a worker thread with the instance's synchronous client."""
        body = self.draft(desired)
        key = natural.of(desired)
        value = natural.lookup_value(desired)

        def absent() -> bool:
            if value is None:
                return False
            params = {**in_predicate(natural.lookup_field, [value]), "limit": 500}
            response = self.api.request("GET", self.resources.path, params=params)
            return not any(natural.of(r) == key for r in response.json().get("results", []))

        response = await asyncio.to_thread(
            self.api.request, "POST", self.endpoint.path, json=body, safe_retry=absent
        )
        created = self.created(response.json())
        self.references.learn(self.type_id, created)
        return created

    async def _get(self, id_: str) -> Json:
        response = await self.api.arequest("GET", f"{self.resources.path}/{id_}")
        body: Json = response.json()
        return body


def _concurrent(exc: Conflict) -> bool:
    return classify(exc.code) == "conflict"


def failed(label: str | None, exc: Exception, id_: str | None = None) -> WriteResult:
    """A failure with the platform's code and message (and its detail, when it gives one)."""
    if isinstance(exc, ApiError):
        message = str(exc.args[0]) if exc.args else str(exc)
        detail = exc.errors[0].get("detailedErrorMessage") if exc.errors else None
        if detail and detail not in message:
            message = f"{message} ({detail})"
        return WriteResult(label, "failed", id_, code=exc.code, message=message)
    return WriteResult(label, "failed", id_, code="InvalidDraft", message=str(exc))


# -- running the asyncio work from synchronous code --------------------------------------------


async def _close_loop_client(api: ApiClient) -> None:
    """Close the connections this private loop opened (they die with it); the instance's
    shared client stays open for everyone else."""
    await api.asynchronous.aclose()


def _blocking(api: ApiClient, work: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        try:
            return await work()
        finally:
            await _close_loop_client(api)

    return asyncio.run(run())


def _blocking_iter(api: ApiClient, results: AsyncGenerator[T, None]) -> Iterator[T]:
    """Drive an async iterator from a plain `for` loop, one item at a time, on a private loop.

    (Not from inside a running event loop: use the `a…` methods there.)"""

    async def step() -> T:
        return await anext(results)

    async def finish() -> None:
        try:
            await results.aclose()
        finally:
            await _close_loop_client(api)

    with asyncio.Runner() as runner:
        try:
            while True:
                try:
                    item = runner.run(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            runner.run(finish())
