"""Every page of a collection as a stream of records, sync or async, in constant memory.

The paginator decides what to ask for next; this loop sends the requests through the instance's
`ApiClient` (so rate limits, pools and retries apply), digs the records out of each page and
hands them on one page at a time.
"""

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.paging import PageRequest, Paginator


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    number: int
    total: int | None  # the collection's size when the platform says it
    state: dict[str, Any]  # the paginator's checkpoint after this page


OnPage = Callable[[Page], None]


def decode(response: httpx.Response) -> Any:
    """The page's JSON, decoded with Python's cyclic garbage collector paused.

    A page of 500 products is ~3 MB and ~100,000 new containers, none of them in a cycle; left
    on, the collector runs over and over while they are built, which makes decoding ~3x slower
    (measured in benchmarks/bench_read_commercetools.py). It is switched back on at once, and
    only if it was on: another thread doing the same never leaves it off.
    """
    with _collector_paused():
        return response.json()


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


def _start(
    endpoint: Endpoint, paginator: Paginator, params: dict[str, Any], resume: dict[str, Any] | None
) -> PageRequest:
    request = PageRequest(params={**endpoint.params, **params})
    if resume:
        paginator.restore(request, resume)
    else:
        paginator.first(request)
    return request


def pages(
    api: ApiClient,
    endpoint: Endpoint,
    paginator: Paginator,
    params: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
) -> Iterator[Page]:
    if resume and resume.get("done"):
        return  # checkpointed after the last page: nothing left
    request = _start(endpoint, paginator, params or {}, resume)
    decoder = PageDecoder()
    number = 0
    while True:
        response = api.request(endpoint.method, request.url or endpoint.path, params=request.params)
        body = decoder(response)
        records = paginator.records(body)
        more = paginator.advance(request, response, body, records)
        number += 1
        page = Page(records, number, paginator.total(body), paginator.state())
        del response, body, records  # see PageDecoder: we hold no page while the next comes
        yield page
        del page
        if not more:
            return


async def apages(
    api: ApiClient,
    endpoint: Endpoint,
    paginator: Paginator,
    params: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
) -> AsyncIterator[Page]:
    if resume and resume.get("done"):
        return
    request = _start(endpoint, paginator, params or {}, resume)
    decoder = PageDecoder()
    number = 0
    while True:
        response = await api.arequest(
            endpoint.method, request.url or endpoint.path, params=request.params
        )
        body = decoder(response)
        records = paginator.records(body)
        more = paginator.advance(request, response, body, records)
        number += 1
        page = Page(records, number, paginator.total(body), paginator.state())
        del response, body, records  # see PageDecoder: we hold no page while the next comes
        yield page
        del page
        if not more:
            return
