"""Concurrent Commerce Layer reads: the keyset walk cut into time windows, several requests in
flight, every record exactly once — also resumed from a checkpoint, through a storm, with records
sharing one timestamp, and when the consumer stops early."""

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from cartwire.resources import Platform
from cartwire.resources.reader import Page
from tests.platforms.cl_support import Admin, skus

T1, T2 = "2026-02-01T00:00:00.000Z", "2026-02-02T00:00:00.000Z"


class InFlight:
    """Counts the async client's requests, and the most in flight at once."""

    def __init__(self) -> None:
        self.now = self.most = self.sent = 0
        self.urls: list[httpx.URL] = []

    async def request(self, request: httpx.Request) -> None:
        self.now += 1
        self.sent += 1
        self.most = max(self.most, self.now)
        self.urls.append(request.url)

    async def response(self, response: httpx.Response) -> None:
        self.now -= 1

    def watch(self, platform: Platform) -> None:
        hooks = platform.api.asynchronous.event_hooks
        hooks["request"].append(self.request)
        hooks["response"].append(self.response)


async def collect(platform: Platform, watch: InFlight | None = None, **kwargs: Any) -> list[Page]:
    if watch is not None:
        watch.watch(platform)
    return [page async for page in platform.apages("skus", **kwargs)]


def ids(pages: list[Page]) -> list[str]:
    return [record["id"] for page in pages for record in page.records]


def test_walks_run_concurrently_and_read_everything_once(platform: Platform, admin: Admin) -> None:
    skus(admin, 2_000)
    admin.fault(method="GET", path="^/api/skus$", delay=0.02, count=10_000)  # some latency
    watch = InFlight()
    pages = asyncio.run(collect(platform, watch, concurrency=4))
    read = ids(pages)
    assert len(read) == len(set(read)) == 2_000
    assert watch.most == 4
    # a cut asks for the id half-way through a walk; the walk cut off starts there
    probes = [u for u in watch.urls if u.params["page[size]"] == "1"]
    starts = {u.params.get("filter[q][id_gteq]") for u in watch.urls} - {None}
    assert len(probes) >= 3
    assert len(starts) == len(probes)
    assert watch.sent <= 80 + 1 + 2 * len(probes)  # each walk ends with one short page
    assert pages[0].total == 2_000
    assert max(len(p.state["walks"]) for p in pages) == 4
    assert pages[-1].state["walks"] == []


def test_a_concurrent_read_resumes_from_any_checkpoint(platform: Platform, admin: Admin) -> None:
    skus(admin, 1_500)

    async def first_part() -> list[Page]:
        taken = []
        walk = cast(AsyncGenerator[Page, None], platform.apages("skus", concurrency=4))
        async for page in walk:
            taken.append(page)
            if len(taken) == 25:
                break
        await walk.aclose()
        return taken

    head = asyncio.run(first_part())
    tail = asyncio.run(collect(platform, resume=head[-1].state))
    read = ids(head) + ids(tail)
    assert len(read) == len(set(read)) == 1_500


def test_a_storm_mid_concurrent_read_is_survived_exactly_once(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 1_000)

    async def read() -> list[Page]:
        pages: list[Page] = []
        async for page in platform.apages("skus", concurrency=4):
            pages.append(page)
            if len(pages) == 5:
                admin.fault(method="GET", path="^/api/skus$", status=429, retry_after=0, count=3)
                admin.fault(method="GET", path="^/api/skus$", status=503, count=3)
        return pages

    pages = asyncio.run(read())
    assert len(ids(pages)) == len(set(ids(pages))) == 1_000
    assert platform.api.stats.statuses[429] == 3
    assert platform.api.stats.statuses[503] == 3


def test_an_incremental_read_of_records_sharing_one_timestamp_is_cut_and_read_once(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 100, 2_000, "2026-01-01T00:00:00.000Z")  # before `since`
    shared = skus(admin, 400, 0, T1)  # one instant; cut by id all the same
    others = skus(admin, 400, 1_000, T2)
    since = datetime(2026, 1, 31, tzinfo=UTC)
    pages = asyncio.run(collect(platform, concurrency=4, since=since))
    read = ids(pages)
    assert len(read) == len(set(read))
    assert sorted(read) == sorted(shared + others)
    assert max(len(p.state["walks"]) for p in pages) > 1
    assert "until" in pages[-1].state  # where the next incremental read starts


def test_stopping_early_stops_the_walks(platform: Platform, admin: Admin) -> None:
    skus(admin, 1_000)

    async def first_records() -> tuple[int, int]:
        watch = InFlight()
        watch.watch(platform)
        taken = [r async for r in platform.aread("skus", limit=60, concurrency=4)]
        sent = watch.sent
        await asyncio.sleep(0.2)
        return len(taken), watch.sent - sent

    count, after = asyncio.run(first_records())
    assert count == 60
    assert after == 0  # nothing was sent once the reader returned
