"""Reading one collection with several requests in flight, for paginators that can `split`.

A read starts as one walk. Whenever a walk finishes a page while fewer than `concurrency` walks
are running, it may cut the rest of itself: in two where the server says (`Paginator.probe`,
one more request, then `split_at`), or into several it works out itself (`Paginator.split`).
Each walk runs as its own task, one request at a time, and the instance's throttles pace them
all. Pages come out in the order they arrive, not in collection order.

Checkpoints stay exact: a page's `state` is `{"walks": [...], **read_state}`, the position of
every walk not yet finished as of the pages handed out so far. A walk's new position, and the
walks cut from it, count only once the page they follow has been handed out, so resuming from
any page's state reads every remaining record once — never one that was handed out, never
skipping one that was not. Memory stays bounded: at most `2 * concurrency` pages wait to be
consumed, and the tasks stop as soon as the consumer does.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.paging import PageRequest, Paginator
from cartwire.resources.reader import Page, decode, page_records


@dataclass
class _Walk:
    id: int
    paginator: Paginator
    request: PageRequest
    committed: dict[str, Any]  # its position as of the pages handed out
    remaining: int | None = None


@dataclass
class _Done:
    """One page of a walk, or its failure, on its way to the consumer."""

    walk: _Walk
    records: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    more: bool = False
    remaining: int | None = None
    children: list[_Walk] = field(default_factory=list)
    error: BaseException | None = None


class _Read:
    def __init__(
        self,
        api: ApiClient,
        endpoint: Endpoint,
        root: Paginator,
        params: dict[str, Any],
        concurrency: int,
    ) -> None:
        self.api = api
        self.endpoint = endpoint
        self.root = root
        self.params = params
        self.concurrency = max(1, concurrency)
        self.queue: asyncio.Queue[_Done] = asyncio.Queue(maxsize=2 * self.concurrency)
        self.running = 0  # walks with a task, including ones about to get one
        self.tasks: set[asyncio.Task[None]] = set()
        self.ids = itertools.count()

    def walk(self, paginator: Paginator, state: dict[str, Any] | None) -> _Walk:
        """A walk positioned at its first page (fresh) or at `state`."""
        request = PageRequest(params={**self.endpoint.params, **self.params})
        if state is None:
            paginator.first(request)
        else:
            paginator.restore(request, state)
        return _Walk(next(self.ids), paginator, request, paginator.state())

    def fresh(self) -> Paginator:
        root = self.root
        return type(root)(root.endpoint, root.paging, root.since)

    def start(self, walk: _Walk) -> None:
        task = asyncio.get_running_loop().create_task(self._run(walk))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, walk: _Walk) -> None:
        paginator, request = walk.paginator, walk.request
        try:
            while True:
                response = await self.api.arequest(
                    self.endpoint.method, request.url or self.endpoint.path, params=request.params
                )
                body = decode(response)
                records = page_records(paginator, body)
                more = paginator.advance(request, response, body, records)
                remaining = paginator.remaining()
                children: list[_Walk] = []
                if more and self.running < self.concurrency:
                    children = await self._cut(paginator, request, records)
                done = _Done(walk, records, paginator.state(), more, remaining, children)
                # Queued before the children start, so their pages come after this one.
                await self.queue.put(done)
                for child_walk in children:
                    self.start(child_walk)
                if not more:
                    self.running -= 1
                    return
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # handed to the consumer, which raises it
            await self.queue.put(_Done(walk, error=error))

    async def _cut(
        self, paginator: Paginator, request: PageRequest, records: list[dict[str, Any]]
    ) -> list[_Walk]:
        """New walks cut from this one's rest, counted as running at once (so that walks
        finishing pages meanwhile do not cut for the same free places)."""
        probe = paginator.probe(request)
        if probe is not None:
            self.running += 1
            answer = await self.api.arequest(
                self.endpoint.method, probe.url or self.endpoint.path, params=probe.params
            )
            child = paginator.split_at(request, answer.json())
            if child is None:
                self.running -= 1
                return []
            return [self.walk(child, child.state())]
        parts = self.concurrency - self.running + 1
        children = [self.walk(c, c.state()) for c in paginator.split(request, records, parts)]
        self.running += len(children)
        return children

    async def pages(self, resume: dict[str, Any] | None) -> AsyncIterator[Page]:
        if resume is not None and "walks" in resume:
            walks = [self.walk(self.fresh(), state) for state in resume["walks"]]
        else:
            walks = [self.walk(self.root, resume)]
        live = {w.id: w for w in walks}
        self.running = len(walks)
        for walk in walks:
            self.start(walk)
        number = handed = 0
        try:
            while live:
                done = await self.queue.get()
                if done.error is not None:
                    raise done.error
                walk = done.walk
                walk.remaining = done.remaining
                if done.more:
                    walk.committed = done.state
                else:
                    del live[walk.id]
                for child in done.children:
                    live[child.id] = child
                number += 1
                handed += len(done.records)
                known = [w.remaining for w in live.values()]
                total = handed + sum(r for r in known if r is not None)
                state = {
                    **self.root.read_state(),
                    "walks": [w.committed for w in live.values()],
                }
                yield Page(done.records, number, total, state)
        finally:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)


def apages_concurrent(
    api: ApiClient,
    endpoint: Endpoint,
    paginator: Paginator,
    params: dict[str, Any] | None = None,
    resume: dict[str, Any] | None = None,
    concurrency: int = 4,
) -> AsyncIterator[Page]:
    """Every page of the collection, read by up to `concurrency` walks at once."""
    return _Read(api, endpoint, paginator, params or {}, concurrency).pages(resume)
