"""Rate limits: headers, cacheable vs other classes, average vs burst windows, 429s."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()

TOO_MANY_REQUESTS = {
    "title": "Too many requests",
    "code": "TOO_MANY_REQUESTS",
    "status": "429",
}


def limits(server: ClServer, value: Any) -> None:
    server.admin("PATCH", "config", json={"rate_limits": value}).raise_for_status()


def headers(response: Any) -> tuple[int, int, int]:
    return (
        int(response.headers["x-ratelimit-limit"]),
        int(response.headers["x-ratelimit-interval"]),
        int(response.headers["x-ratelimit-remaining"]),
    )


def assert_limited(response: Any, window: float) -> None:
    assert response.status_code == 429
    error = response.json()["errors"][0]
    assert {k: error[k] for k in TOO_MANY_REQUESTS} == TOO_MANY_REQUESTS
    assert error["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_no_headers_when_limits_are_off(api: Api) -> None:
    response = api.get("/skus")
    assert "x-ratelimit-limit" not in response.headers


@pytest.mark.parametrize(
    ("profile", "cacheable", "other"), [("test", 500, 100), ("live", 1000, 200)]
)
def test_headers_describe_the_average_limit_of_the_class(
    api: Api, server: ClServer, profile: str, cacheable: int, other: int
) -> None:
    limits(server, profile)
    assert headers(api.get("/skus")) == (cacheable, 60, cacheable - 1)
    assert headers(api.get("/prices")) == (cacheable, 60, cacheable - 2)
    assert headers(api.get("/customers")) == (other, 60, other - 1)
    assert headers(api.get("/orders")) == (other, 60, other - 2)
    assert headers(api.create("skus", {"code": "RL"})) == (other, 60, other - 1)
    assert headers(api.get("/skus/nothing")) == (cacheable, 60, cacheable - 3)
    assert headers(api.get("/organization")) == (other, 60, other - 3)


def test_cacheable_average_limit(api: Api, server: ClServer) -> None:
    limits(server, {"cacheable_average": 3, "cacheable_burst": 100})
    for n in range(3):
        assert api.get("/skus" if n % 2 else "/markets").status_code == 200
    assert_limited(api.get("/prices"), 60)
    assert api.get("/customers").status_code == 200, "other classes keep their own budget"
    assert api.create("skus", {"code": "x"}).status_code == 422, "writes are another class"


def test_burst_limit_is_per_endpoint(api: Api, server: ClServer) -> None:
    limits(server, {"average": 100, "burst": 2})
    assert api.get("/customers").status_code == 200
    assert api.get("/customers/abc").status_code == 404
    assert_limited(api.get("/customers"), 10)
    assert api.get("/orders").status_code == 200, "another endpoint has its own burst window"
    assert api.create("customers", {"email": "x@example.com"}).status_code == 201


def test_average_limit_sums_the_class(api: Api, server: ClServer) -> None:
    limits(server, {"average": 3, "burst": 100})
    for path in ("/customers", "/orders", "/addresses"):
        assert api.get(path).status_code == 200
    assert_limited(api.get("/line_items"), 60)


def test_windows_slide(api: Api, server: ClServer) -> None:
    """Two requests a 2 s window: the third is refused only if the server saw all three within
    the window, which the client knows from its own clock (the same monotonic clock as the
    server's), so a slow machine repeats the try rather than failing it."""
    window = 2
    limits(server, {"average": 2, "burst": 100, "average_window": window})
    while True:
        sent = time.monotonic()
        assert api.get("/customers").status_code == 200
        first_answered = time.monotonic()
        assert api.get("/customers").status_code == 200
        limited = api.get("/customers")
        if time.monotonic() - sent < window:
            break
        time.sleep(window)  # a window all of its own for the next try
    assert_limited(limited, window)
    assert limited.headers["x-ratelimit-interval"] == str(window)
    # The first request leaves the window by first_answered + window at the latest.
    time.sleep(max(0.0, first_answered + window - time.monotonic()) + 0.01)
    assert api.get("/customers").status_code == 200


def test_unauthenticated_requests_count_too(server: ClServer) -> None:
    limits(server, {"cacheable_average": 1})
    assert httpx.get(f"{server.url}/api/skus").status_code == 401
    assert httpx.get(f"{server.url}/api/skus").status_code == 429


def test_profile_off_lifts_the_limits(api: Api, server: ClServer) -> None:
    limits(server, {"cacheable_average": 1})
    api.get("/skus")
    assert api.get("/skus").status_code == 429
    limits(server, "off")
    assert all(api.get("/skus").status_code == 200 for _ in range(5))
