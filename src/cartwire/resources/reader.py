"""Every page of a collection as a stream of records, sync or async, in constant memory.

The paginator decides what to ask for next; this loop sends the requests through the instance's
`ApiClient` (so rate limits, pools and retries apply), digs the records out of each page and
hands them on one page at a time.
"""

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.paging import IncompleteRead, PageRequest, Paginator
from cartwire.resources.jsonapi import flatten_document


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    number: int
    total: int | None  # the collection's size when the platform says it
    state: dict[str, Any]  # the paginator's checkpoint after this page
    # The server's clock when it answered (its `Date` header), None without one: lets an
    # incremental read tell which changes had time to become visible (cartwire.flows.cursor).
    served_at: datetime | None = None
    remaining: int | None = None  # records the walk has still to read, when the platform says


OnPage = Callable[[Page], None]


def decode(response: httpx.Response) -> Any:
    """The page's JSON, decoded with Python's cyclic garbage collector paused.

    A page of 500 products is ~3 MB and ~100,000 new containers, none of them in a cycle; left
    on, the collector runs over and over while they are built, which makes decoding ~3x slower
    (measured in the read benchmarks under benchmarks/). It is switched back on at once, and
    only if it was on: another thread doing the same never leaves it off.
    """
    with _collector_paused():
        return response.json()


def page_records(paginator: Paginator, body: Any) -> list[dict[str, Any]]:
    """The records of a page: the flattened resources of a JSON:API endpoint's (`format:
    jsonapi`, whatever its paging), else what the paginator finds."""
    if paginator.endpoint.format == "jsonapi":
        return flattened(paginator.endpoint, body)
    return paginator.records(body)


def flattened(endpoint: Endpoint, body: Any) -> list[dict[str, Any]]:
    """A JSON:API page's resources as flat records; a page that is no JSON:API document fails
    the walk rather than reading as empty."""
    try:
        return flatten_document(body)
    except ValueError as exc:
        raise IncompleteRead(f"endpoint {endpoint.name!r}: {exc}") from None


class PageDecoder:
    """`decode` for a walk that reads one page after another, letting go of the page before
    while the collector is still paused.

    The collector counts containers made minus containers freed (never below zero). A new page
    adds ~100,000; if the page before is freed in the same pause, the count is back near zero
    and nothing runs; if it is freed first, or after, the next allocation sets off a collection
    that walks all 100,000 new containers, once per page. So consumers hold no page while
    asking for the next one (as `Platform.read` does), and this decoder holds the last one.
    """

    def __init__(self) -> None:
        self._last: Any = None

    def __call__(self, response: httpx.Response) -> Any:
        with _collector_paused():
            self._last = body = response.json()  # the page before goes here, if unreferenced
            return body


@contextmanager
def _collector_paused() -> Iterator[None]:
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


class _Walk:
    """One walk over a collection, apart from how its requests are sent, so the sync and the
    async loop below share everything but the `await`."""

    def __init__(
        self,
        endpoint: Endpoint,
        paginator: Paginator,
        params: dict[str, Any] | None,
        resume: dict[str, Any] | None,
    ) -> None:
        self.endpoint = endpoint
        self.paginator = paginator
        self.request = PageRequest(params={**endpoint.params, **(params or {})})
        if resume:
            paginator.restore(self.request, resume)
        else:
            paginator.first(self.request)
        self.decoder = PageDecoder()
        self.number = 0

    def next_call(self) -> tuple[str, str, dict[str, Any]]:
        """(method, path or next-page URL, params) of the next request."""
        return self.endpoint.method, self.request.url or self.endpoint.path, self.request.params

    def take(self, response: httpx.Response) -> tuple[Page, bool]:
        """The page in `response`, and whether another follows. Its body and records are
        local to this call, so the walking loop holds no page but the one it yields (see
        `PageDecoder`)."""
        body = self.decoder(response)
        records = page_records(self.paginator, body)
        more = self.paginator.advance(self.request, response, body, records)
        self.number += 1
        page = Page(
            records,
            self.number,
            self.paginator.total(body),
            self.paginator.state(),
            served_at(response),
            self.paginator.remaining(),
        )
        return page, more


def served_at(response: httpx.Response) -> datetime | None:
    """The time in the response's `Date` header (whole seconds, rounded down by the server),
    None when it has none or it cannot be read."""
    header = response.headers.get("date")
    if not header:
        return None
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pages(
    api: ApiClient,
    endpoint: Endpoint,
    paginator: Paginator,
    params: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
) -> Iterator[Page]:
    if resume and resume.get("done"):
        return  # checkpointed after the last page: nothing left
    walk = _Walk(endpoint, paginator, params, resume)
    more = True
    while more:
        method, path, query = walk.next_call()
        page, more = walk.take(api.request(method, path, params=query))
        yield page
        del page


async def apages(
    api: ApiClient,
    endpoint: Endpoint,
    paginator: Paginator,
    params: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
) -> AsyncIterator[Page]:
    if resume and resume.get("done"):
        return
    walk = _Walk(endpoint, paginator, params, resume)
    more = True
    while more:
        method, path, query = walk.next_call()
        page, more = walk.take(await api.arequest(method, path, params=query))
        yield page
        del page
