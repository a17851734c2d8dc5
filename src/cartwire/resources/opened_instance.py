"""An opened instance: read and write its records by endpoint name.

This is where the pieces meet: the connector file (endpoints, paging, writers), the instance
and the one shared `ApiClient` (credentials, rate limit, throttles, pool) the service layer
built for it.
"""

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from cartwire.connectors.schema import Connector, Endpoint
from cartwire.http.client import ApiClient, release_client
from cartwire.http.paging import paginator_for
from cartwire.http.paging.base import PageRequest, Paginator
from cartwire.platforms.registry import WRITER, registry
from cartwire.resources.concurrent import apages_concurrent
from cartwire.resources.reader import Page, apages, pages
from cartwire.resources.writer import Mode, Writer, WriteResult
from cartwire.store import InstanceRecord

Filters = dict[str, list[str]]
ID_BATCH = 100  # ids per read by id: a short URL, one indexed query


class Platform:
    """`with cartwire.open("ct") as ct: for product in ct.read("products"): …`

    Opened by the service layer (`cartwire.services.clients`), which resolves the instance to
    its connector and hands over the process's shared `ApiClient` for it under `client_key`;
    closing the last Platform of that key closes the client."""

    def __init__(
        self, record: InstanceRecord, connector: Connector, api: ApiClient, client_key: str
    ) -> None:
        self.record = record
        self.connector = connector
        self.api = api
        self._client_key = client_key
        self._closed = False

    def __enter__(self) -> "Platform":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> "Platform":
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _release(self) -> ApiClient | None:
        """The shared client to close, when this was its last user (once per Platform)."""
        if self._closed:
            return None
        self._closed = True
        return release_client(self._client_key)

    def close(self) -> None:
        api = self._release()
        if api is not None:
            api.close()

    async def aclose(self) -> None:
        api = self._release()
        if api is not None:
            await api.aclose()

    def endpoint(self, name: str) -> Endpoint:
        return self.connector.endpoint(name)

    def _params(self, endpoint: Endpoint, filters: Filters | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, values in (filters or {}).items():
            found = ((f, f.param_for(key)) for f in endpoint.filters)
            spec, param = next(((f, p) for f, p in found if p is not None), (None, None))
            if spec is None or param is None:
                names = ", ".join(f.key for f in endpoint.filters) or "none"
                raise ValueError(
                    f"endpoint {endpoint.name!r} has no filter {key!r} (known: {names})"
                )
            if len(values) > 1 and not spec.repeat:
                raise ValueError(f"filter {key!r} of endpoint {endpoint.name!r} takes one value")
            params[param] = values if spec.repeat else values[0]
        return params

    def _paginator_args(
        self, endpoint: Endpoint, since: datetime | None, page_size: int | None = None
    ) -> Any:
        if not endpoint.receives or endpoint.paging is None:
            raise ValueError(f"endpoint {endpoint.name!r} does not receive records")
        paging = endpoint.paging
        if since is not None:
            if endpoint.incremental is None:
                raise ValueError(f"endpoint {endpoint.name!r} cannot read incrementally")
            paging = endpoint.incremental
        if page_size is not None:  # smaller pages only: the endpoint's size is the platform's cap
            paging = paging.model_copy(
                update={"page_size": min(page_size, paging.page_size or page_size)}
            )
        return paginator_for(endpoint, paging, since)

    def pages(
        self,
        endpoint: str,
        *,
        filters: Filters | None = None,
        since: datetime | None = None,
        resume: dict[str, Any] | None = None,
        page_size: int | None = None,
    ) -> Iterator[Page]:
        if resume is not None and "walks" in resume:
            raise ValueError("a concurrent read's checkpoint resumes with apages()")
        spec = self.endpoint(endpoint)
        paginator = self._paginator_args(spec, since, page_size)
        return pages(self.api, spec, paginator, self._params(spec, filters), resume)

    def shards(
        self,
        endpoint: str,
        parts: int,
        *,
        least: int = 1,
        filters: Filters | None = None,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Where each of up to `parts` walks of at least `least` records starts that together
        read all of `endpoint` (a full read) exactly once: checkpoints `pages(resume=…)` goes
        on from, each walked on its own. The paging cuts them (`Paginator.cut`, the platform's
        own range logic), asking the server what it needs to (how many records, where to cut)
        but reading no page; [] when the read stays whole."""
        spec = self.endpoint(endpoint)
        paginator = self._paginator_args(spec, None, page_size)
        request = PageRequest(params={**spec.params, **self._params(spec, filters)})
        paginator.first(request)
        cutting = paginator.cut(request, parts, least)
        try:
            asked = next(cutting)
            while True:
                answer = self.api.request(spec.method, asked.url or spec.path, params=asked.params)
                asked = cutting.send(answer.json())
        except StopIteration as done:
            others: list[Paginator] = done.value
        if not others:
            return []
        return [paginator.state(), *(other.state() for other in others)]

    def apages(
        self,
        endpoint: str,
        *,
        filters: Filters | None = None,
        since: datetime | None = None,
        resume: dict[str, Any] | None = None,
        concurrency: int | None = None,
    ) -> AsyncIterator[Page]:
        """Pages as they arrive. With `concurrency` above 1 (default: the paging's
        `concurrency` option), a paginator that can `split` reads with that many requests in
        flight, pages out of collection order (`cartwire.resources.concurrent`)."""
        spec = self.endpoint(endpoint)
        paginator = self._paginator_args(spec, since)
        params = self._params(spec, filters)
        width = concurrency or int(paginator.option("concurrency", 1))
        if width > 1 or (resume is not None and "walks" in resume):
            return apages_concurrent(self.api, spec, paginator, params, resume, width)
        return apages(self.api, spec, paginator, params, resume)

    def records_by_id(
        self, endpoint: str, ids: Sequence[str], *, filters: Filters | None = None
    ) -> Iterator[dict[str, Any]]:
        """The records of `endpoint` with these primary keys that also match `filters`, as
        they are now (a retry reads again what a run failed on rather than trust an old copy);
        an id with no such record gives nothing. A batch of ids per read."""
        spec = self.endpoint(endpoint)
        params = self._params(spec, filters)
        for start in range(0, len(ids), ID_BATCH):
            paginator = self._paginator_args(spec, None)
            narrowing = paginator.by_ids(ids[start : start + ID_BATCH])
            if narrowing is None:
                raise ValueError(
                    f"endpoint {spec.name!r} ({paginator.name} paging) cannot read records by id"
                )
            for page in pages(self.api, spec, paginator, _joined(params, narrowing)):
                yield from page.records

    def read(
        self,
        endpoint: str,
        *,
        filters: Filters | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of the endpoint (or the first `limit`), one at a time."""
        seen = 0
        pages = self.pages(endpoint, filters=filters, since=since)
        while (page := next(pages, None)) is not None:
            records, page = page.records, None  # no page held while the next is fetched
            for record in records:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield record
            del records

    async def aread(
        self,
        endpoint: str,
        *,
        filters: Filters | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        concurrency: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        seen = 0
        pages = self.apages(endpoint, filters=filters, since=since, concurrency=concurrency)
        try:
            async for page in pages:
                for record in page.records:
                    if limit is not None and seen >= limit:
                        return
                    seen += 1
                    yield record
        finally:  # stops a concurrent read's tasks at once when we return early
            close = getattr(pages, "aclose", None)
            if close is not None:
                await close()

    def writer(self, endpoint: str) -> Writer:
        spec = self.endpoint(endpoint)
        if spec.write is None:
            raise ValueError(f"endpoint {spec.name!r} does not send records")
        return registry().get(WRITER, spec.write.strategy)(self.api, spec)

    def upsert(
        self,
        endpoint: str,
        records: Iterable[dict[str, Any]],
        key: str | None = None,
        *,
        dry_run: bool = False,
        mode: Mode = "upsert",
        concurrency: int | None = None,
        replace: frozenset[str] = frozenset(),
    ) -> Iterator[WriteResult]:
        """Write records by natural key; `mode` limits what may happen to them.

        For create-only and update-only a dry run first tells which records exist; the records
        the mode excludes come back as "skipped" (create-only: they exist; update-only: they
        do not), and only the others are written. Object values merge into the destination's,
        except those of the top-level fields in `replace` (`Writer.replace`). A failure carries
        its class (`WriteResult.error_class`), so a caller knows whether to try again.
        """
        writer = self.writer(endpoint)
        if concurrency is not None:
            writer.concurrency = concurrency
        writer.replace = replace
        if mode == "upsert" or (mode == "create-only" and writer.create_only):
            results = writer.upsert(records, key, dry_run=dry_run)
        else:
            results = self._upsert_limited(writer, list(records), key, dry_run, mode)
        return map(writer.classified, results)

    def _upsert_limited(
        self,
        writer: Writer,
        records: list[dict[str, Any]],
        key: str | None,
        dry_run: bool,
        mode: Mode,
    ) -> Iterator[WriteResult]:
        preview = list(writer.upsert(records, key, dry_run=True))
        creates = mode == "create-only"
        allowed = [
            i for i, r in enumerate(preview) if not r.failed and (r.outcome == "created") == creates
        ]
        written = iter(
            writer.upsert([records[i] for i in allowed], key, dry_run=dry_run) if allowed else []
        )
        chosen = set(allowed)
        reason = "exists (create-only)" if mode == "create-only" else "does not exist (update-only)"
        for index, result in enumerate(preview):
            if index in chosen:
                yield next(written)
            elif result.failed:
                yield result
            else:
                yield WriteResult(result.key, "skipped", result.id, message=reason)


def _joined(params: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """Both sets of query parameters; a parameter in both must repeat (a list in each)."""
    joined = dict(params)
    for name, value in more.items():
        if name not in joined:
            joined[name] = value
        elif isinstance(joined[name], list) and isinstance(value, list):
            joined[name] = [*joined[name], *value]
        else:
            raise ValueError(f"filter parameter {name!r} is also what reading by id sets")
    return joined


# What opens an instance by name (the service layer's `open_platform`, bound to a store).
Opener = Callable[[str], Platform]
