"""The `commercelayer_limits` throttle: request classes, what it learns from the platform's
answers, windows that never overbook with many requests in flight, and reads and writes
against the sandbox with small limits switched on that get no 429 at all.

Elapsed times are only checked from below (a busy machine is slower, never faster)."""

import asyncio
import threading
import time
from collections.abc import Sequence

import httpx
import pytest

from cartwire.connectors import get_connector
from cartwire.http.shared_windows import Full, MemoryWindows, Window
from cartwire.platforms.commercelayer.limits import (
    CommerceLayerLimits,
    Limit,
    Profile,
    listed_profiles,
)
from cartwire.resources import Platform
from cartwire.sandbox.commercelayer.ratelimit import CACHEABLE_TYPES
from cartwire.sandbox.manager import Sandbox
from tests.platforms.cl_support import Admin, pace, skus

# Sandbox limits small enough to hit in a test: cacheable 40 a 2 s window and 12 per endpoint a
# second; other GETs and writes 12 a 2 s window and 4 per endpoint a second.
SMALL = {
    "cacheable_average": 40,
    "cacheable_burst": 12,
    "average": 12,
    "burst": 4,
    "average_window": 2,
    "burst_window": 1,
}
SMALL_PROFILE = Profile(Limit(40, 12), Limit(12, 4), Limit(12, 4), 2.0, 1.0)


def throttle(profile: Profile = SMALL_PROFILE, margin: float = 0.5) -> CommerceLayerLimits:
    """A throttle of its own (own windows), with `profile` as its only one."""
    made = CommerceLayerLimits({"small": profile}, profile="small", margin=margin)
    made.windows = MemoryWindows()
    return made


def answer(
    method: str, path: str, headers: dict[str, str] | None = None, status: int = 200
) -> httpx.Response:
    request = httpx.Request(method, f"https://org.commercelayer.io/api/{path}")
    return httpx.Response(status, headers=headers, request=request)


def stated(limit: int, interval: int, remaining: int | None = None) -> dict[str, str]:
    """The rate-limit headers of an answer."""
    headers = {"X-Ratelimit-Limit": str(limit), "X-Ratelimit-Interval": str(interval)}
    if remaining is not None:
        headers["X-Ratelimit-Remaining"] = str(remaining)
    return headers


# -- classes and learning -----------------------------------------------------------------------


def test_requests_fall_into_the_platform_classes() -> None:
    limits = CommerceLayerLimits()
    host = "org.commercelayer.io"
    for method, path, klass, endpoint in [
        ("GET", "skus", "cacheable", "skus"),
        ("GET", "skus/abc/prices", "cacheable", "skus"),
        ("GET", "imports/x", "cacheable", "imports"),
        ("GET", "percentage_discount_promotions", "cacheable", "percentage_discount_promotions"),
        ("GET", "orders", "uncacheable", "orders"),
        ("HEAD", "customers", "uncacheable", "customers"),
        ("POST", "skus", "write", "skus"),
        ("PATCH", "prices/x", "write", "prices"),
        ("DELETE", "orders/x", "write", "orders"),
    ]:
        request = httpx.Request(method, f"https://{host}/api/{path}")
        assert limits.classify(request) == (host, klass, endpoint)


def test_the_cacheable_resources_are_the_connector_files_and_the_emulators() -> None:
    """The client keeps no list of its own; the emulator keeps one on purpose (it imports no
    client code), so the two are compared here, where both may be read."""
    throttle = get_connector("commercelayer").throttle
    assert throttle is not None
    listed = tuple(throttle.options["cacheable"])
    assert CommerceLayerLimits().cacheable == listed
    # The emulator names the promotion types the pattern stands for by the one it serves.
    assert set(listed) - {"*_promotions"} == CACHEABLE_TYPES


def test_auto_follows_the_headers() -> None:
    profiles = listed_profiles()
    limits = CommerceLayerLimits()
    limits.windows = MemoryWindows()
    assert limits.current == profiles["test"]  # the careful start
    limits.observe(answer("GET", "skus", stated(1000, 60)))
    assert limits.current == profiles["live"]
    limits.observe(answer("GET", "orders", stated(100, 60)))
    assert limits.current == profiles["test"]
    limits.observe(answer("GET", "skus"))  # a 2xx without them: no limits (a sandbox)
    assert limits.unlimited
    limits.observe(answer("GET", "skus", status=500))
    assert limits.unlimited
    limits.observe(answer("GET", "skus", stated(40, 2, 39)))
    assert not limits.unlimited
    assert limits.current.cacheable == Limit(40, 10)  # burst scaled like the average (500 → 40)
    assert limits.current.average_window == 2
    assert limits.current.burst_window == pytest.approx(10 / 30)


def test_a_configured_profile_only_gets_stricter() -> None:
    limits = CommerceLayerLimits(profile="live")
    limits.windows = MemoryWindows()
    limits.observe(answer("GET", "skus", stated(2000, 60)))
    assert limits.current == listed_profiles()["live"]
    limits.observe(answer("GET", "orders", stated(100, 60)))
    assert limits.current.uncacheable == Limit(100, 25)


def test_what_others_used_is_booked_into_our_window() -> None:
    limits = throttle()
    request = httpx.Request("GET", "https://org.commercelayer.io/api/skus")
    limits.acquire(request)
    limits.observe(httpx.Response(200, headers=stated(40, 2, 9), request=request))
    used = limits.windows.book(Window("cl/org.commercelayer.io/cacheable", 40, 3))
    assert used == 31  # ours, and the 30 someone else sent


class Booked(MemoryWindows):
    """Windows that note when each request took its place in them."""

    def __init__(self) -> None:
        super().__init__()
        self.times: dict[str, list[float]] = {}

    def reserve(self, windows: Sequence[Window]) -> Full | None:
        full = super().reserve(windows)
        if full is None:
            for window in windows:
                self.times.setdefault(window.key, []).append(time.time())
        return full


def test_the_windows_never_overbook_with_many_threads() -> None:
    profile = Profile(Limit(10, 4), Limit(1, 1), Limit(1, 1), 1.0, 0.5)
    limits = throttle(profile, margin=0.0)
    limits.windows = booked = Booked()

    def go() -> None:
        limits.acquire(httpx.Request("GET", "https://org.commercelayer.io/api/skus"))

    began = time.monotonic()
    threads = [threading.Thread(target=go) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began >= 1.9  # the 9th of 4 a second waits two windows
    burst = booked.times["cl/org.commercelayer.io/cacheable/skus"]
    assert len(burst) == 10
    for i, start in enumerate(burst):  # no 1 s window (0.5 s rounded up) holds more than 4
        assert sum(1 for t in burst[i:] if t < start + 1.0) <= 4


# -- against the sandbox ------------------------------------------------------------------------


def test_a_concurrent_read_under_small_limits_gets_no_429(platform: Platform, admin: Admin) -> None:
    skus(admin, 750)  # 30 pages, more than two bursts
    admin.limits(SMALL)
    pace(platform, throttle())
    admin.clear_counters()

    async def read() -> list[str]:
        return [r["id"] async for r in platform.aread("skus", concurrency=4)]

    began = time.monotonic()
    ids = asyncio.run(read())
    elapsed = time.monotonic() - began
    assert len(ids) == len(set(ids)) == 750
    assert platform.api.stats.statuses[429] == 0
    assert platform.api.stats.statuses[200] == admin.requests("GET", "skus")
    assert elapsed >= 2.0  # 30+ requests at 12 a second per endpoint


def test_writes_under_small_limits_get_no_429(platform: Platform, admin: Admin) -> None:
    admin.limits(SMALL)
    pace(platform, throttle())
    records = [
        {"code": f"PACED-{n}", "name": "p", "shipping_category": {"code": "merchandise"}}
        for n in range(10)
    ]
    results = list(platform.upsert("skus", records))
    assert {r.outcome for r in results} == {"created"}
    assert platform.api.stats.statuses[429] == 0
    assert admin.requests("POST", "skus") == 10


def test_a_budget_used_by_someone_else_is_respected(
    platform: Platform, admin: Admin, cl: Sandbox
) -> None:
    skus(admin, 200)  # 8 pages
    admin.limits(SMALL)
    pace(platform, throttle())
    token = httpx.post(
        f"{cl.url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            **{k: cl.credentials[k] for k in ("client_id", "client_secret")},
        },
    ).json()["access_token"]
    others = ["prices", "price_lists", "markets", "stock_items", "stock_locations"]
    for n in range(30):  # another client on this IP leaves 10 of the 40
        url = f"{cl.url}/api/{others[n % 5]}"
        httpx.get(url, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    ids = [r["id"] for r in platform.read("skus")]
    assert len(ids) == len(set(ids)) == 200
    assert platform.api.stats.statuses[429] == 0


def test_a_429_holds_the_whole_class_back(platform: Platform, admin: Admin) -> None:
    skus(admin, 500)
    limits = throttle(Profile(Limit(10_000, 10_000), Limit(100, 100), Limit(100, 100)))
    pace(platform, limits)
    admin.fault(method="GET", path="^/api/skus$", status=429, retry_after=1, count=1)
    sent: list[float] = []
    refused: list[float] = []

    async def read() -> int:
        client = platform.api.asynchronous

        async def on_request(request: httpx.Request) -> None:
            sent.append(time.time())

        async def on_response(response: httpx.Response) -> None:
            if response.status_code == 429:
                refused.append(time.time())

        client.event_hooks["request"].append(on_request)
        client.event_hooks["response"].append(on_response)
        return len([r async for r in platform.aread("skus", concurrency=4)])

    assert asyncio.run(read()) == 500
    assert len(refused) == 1
    # (the hook sees the 429 a moment before the throttle does)
    assert not [t for t in sent if refused[0] + 0.1 < t < refused[0] + 0.95]
