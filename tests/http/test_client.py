"""The transport against the real sandboxes and their fault injection: what is retried, what is
never repeated, how long Retry-After holds a request back (lower bounds only), and what an
error says (and never says: the token).
"""

import asyncio
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

import cartwire
from cartwire.http.client import ApiClient, RetryPolicy, retry_after
from cartwire.http.errors import (
    CORRELATION_HEADER,
    ApiError,
    BadRequest,
    NotFound,
    RateLimited,
    ServerError,
    TimedOut,
    Unreachable,
    error_from_response,
)
from cartwire.sandbox.manager import Sandbox
from tests.http.conftest import Opener
from tests.http.local_server import serve

FAST = RetryPolicy(initial=0.01, maximum=0.05)
JSONAPI = {"Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json"}


def fault(sandbox: Sandbox, **body: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=body).raise_for_status()


def counted(sandbox: Sandbox, key: str) -> int:
    paths: dict[str, int] = httpx.get(f"{sandbox.url}/_sandbox/counters").json()["paths"]
    return paths.get(key, 0)


def ct_path(ct: Sandbox, resource: str) -> str:
    return f"/{ct.credentials['project_key']}/{resource}"


@pytest.fixture
def ct_api(ct: Sandbox, open_platform: Opener) -> ApiClient:
    api = open_platform(ct).api
    api.retry = FAST
    return api


@pytest.fixture
def cl_api(cl: Sandbox, open_platform: Opener) -> ApiClient:
    api = open_platform(cl).api
    api.retry = FAST
    return api


def token_of(api: ApiClient) -> str:
    auth: Any = api.auth
    return str(auth.source.token().access_token)


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def assert_no_secret(exc: BaseException, token: str) -> None:
    """Nothing a person or a log could see of the exception names the token or the header."""
    texts = ["".join(traceback.format_exception(exc))]
    for linked in chain(exc):
        texts += [str(linked), repr(linked), repr(vars(linked))]
    for text in texts:
        assert token not in text
        assert "authorization" not in text.lower()
        assert "bearer" not in text.lower()
    assert exc.__context__ is None  # raised outside any `except`
    assert exc.__cause__ is None


# -- retries -----------------------------------------------------------------------------------


def test_429_is_retried_after_the_seconds_retry_after_asks(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, method="GET", path="/channels$", status=429, retry_after=1, count=2)
    started = time.monotonic()
    assert ct_api.request("GET", "channels").status_code == 200
    assert time.monotonic() - started >= 2.0  # two waits of at least one second each
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 3
    assert ct_api.stats.retries == 2
    assert ct_api.stats.statuses[429] == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_and_capacity_errors_are_retried(
    cl: Sandbox, cl_api: ApiClient, status: int
) -> None:
    fault(cl, method="GET", path="/api/markets$", status=status, count=3)
    assert cl_api.request("GET", "markets", headers=JSONAPI).json()["data"]
    assert counted(cl, "GET /api/markets") == 4


def test_a_storm_longer_than_the_attempts_ends_in_a_typed_error(
    ct: Sandbox, cl: Sandbox, ct_api: ApiClient, cl_api: ApiClient
) -> None:
    fault(ct, path="/channels$", status=503, count=100)
    with pytest.raises(ServerError) as ct_error:
        ct_api.request("GET", "channels")
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == FAST.attempts
    assert ct_error.value.status == 503
    assert ct_error.value.code == "OverCapacity"
    assert "over capacity" in ct_error.value.message
    assert str(ct_error.value.request_id).startswith("cartwire-")

    fault(cl, path="/api/skus$", status=503, count=100)
    with pytest.raises(ServerError) as cl_error:
        cl_api.request("GET", "skus", headers=JSONAPI)
    assert counted(cl, "GET /api/skus") == FAST.attempts
    assert cl_error.value.code == "SERVICE_UNAVAILABLE"
    assert "temporarily unavailable" in cl_error.value.message
    assert str(cl_error.value.request_id).startswith("cartwire-")


def test_500_is_not_retried(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, path="/channels$", status=500)
    with pytest.raises(ServerError) as caught:
        ct_api.request("GET", "channels")
    assert caught.value.code == "General"
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 1


def test_a_retry_after_longer_than_we_wait_fails_at_once_saying_how_long(
    ct: Sandbox, ct_api: ApiClient
) -> None:
    ct_api.retry = RetryPolicy(initial=0.01, maximum=0.05, max_retry_after=5)
    fault(ct, path="/channels$", status=429, retry_after=120)
    with pytest.raises(RateLimited) as caught:
        ct_api.request("GET", "channels")
    assert caught.value.retry_after == 120
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 1


def test_a_dropped_get_is_repeated(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, path="/channels$", drop=True, count=2)
    assert ct_api.request("GET", "channels").status_code == 200
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 3


def test_a_read_timeout_on_get_is_repeated(cl: Sandbox, cl_api: ApiClient) -> None:
    cl_api.timeout = httpx.Timeout(0.3)
    fault(cl, path="/api/markets$", delay=1.0)
    assert cl_api.request("GET", "markets", headers=JSONAPI).status_code == 200
    assert counted(cl, "GET /api/markets") == 2


# -- POSTs that may have been applied -----------------------------------------------------------


def channel(key: str) -> dict[str, Any]:
    return {"key": key, "roles": ["InventorySupply"]}


def channel_exists(api: ApiClient, key: str) -> bool:
    try:
        api.request("GET", f"channels/key={key}")
    except NotFound:
        return False
    return True


def test_a_dropped_post_is_not_repeated(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, method="POST", path="/channels$", drop=True)
    with pytest.raises(Unreachable):
        ct_api.request("POST", "channels", json=channel("dropped"))
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 1


def test_a_dropped_post_is_repeated_when_safe_retry_says_so(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, method="POST", path="/channels$", drop=True)
    asked: list[bool] = []

    def not_created_yet() -> bool:
        asked.append(not channel_exists(ct_api, "checked"))
        return asked[-1]

    created = ct_api.request(
        "POST", "channels", json=channel("checked"), safe_retry=not_created_yet
    )
    assert created.status_code == 201
    assert asked == [True]
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 2

    fault(ct, method="POST", path="/channels$", drop=True)
    ct_api.request("POST", "channels", json=channel("unconditional"), safe_retry=True)
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 4


def test_a_timed_out_post_that_did_not_land_is_repeated_after_the_check(
    ct: Sandbox, ct_api: ApiClient
) -> None:
    """commercetools' sandbox drops a request whose client hung up: the check finds nothing."""
    ct_api.timeout = httpx.Timeout(0.3)
    fault(ct, method="POST", path="/channels$", delay=1.0)
    created = ct_api.request(
        "POST",
        "channels",
        json=channel("slow"),
        safe_retry=lambda: not channel_exists(ct_api, "slow"),
    )
    assert created.json()["key"] == "slow"
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 2


def test_a_timed_out_post_that_landed_is_not_created_twice() -> None:
    """The create lands, the answer comes too late: the check, asked after the backoff, sees the
    record and the POST is not sent again. (Both sandboxes drop a request whose client hung up,
    so this runs against the local server, which applies the create before answering.)"""
    with serve() as (url, served):
        api = ApiClient(url, timeout=httpx.Timeout(0.3), retry=FAST)

        def absent() -> bool:
            return not api.request("GET", "things", params={"key": "k1"}).json()["items"]

        with pytest.raises(TimedOut):
            api.request("POST", "things?delay=1", json={"key": "k1"}, safe_retry=absent)
        api.close()
    assert [r[:2] for r in served.requests] == [("POST", "/things"), ("GET", "/things")]
    assert list(served.things) == ["k1"]


def test_a_post_refused_with_429_is_always_repeated(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, method="POST", path="/channels$", status=429, retry_after=0)
    assert ct_api.request("POST", "channels", json=channel("refused")).status_code == 201
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 2


def test_a_post_answered_503_is_not_repeated_by_default(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, method="POST", path="/channels$", status=503)
    with pytest.raises(ServerError):
        ct_api.request("POST", "channels", json=channel("busy"))
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 1


# -- errors ------------------------------------------------------------------------------------


def test_platform_error_bodies_become_typed_errors(ct_api: ApiClient, cl_api: ApiClient) -> None:
    with pytest.raises(NotFound) as ct_missing:
        ct_api.request("GET", "channels/key=nope")
    assert ct_missing.value.code == "ResourceNotFound"
    assert "not found" in ct_missing.value.message
    assert str(ct_missing.value.request_id).startswith("cartwire-")

    with pytest.raises(NotFound) as cl_missing:
        cl_api.request("GET", "skus/nope", headers=JSONAPI)
    assert cl_missing.value.code == "RECORD_NOT_FOUND"

    sku = {"data": {"type": "skus", "attributes": {"code": "A1", "name": "A"}}}
    with pytest.raises(BadRequest) as invalid:
        cl_api.request("POST", "skus", json=sku, headers=JSONAPI)
    assert invalid.value.status == 422
    assert invalid.value.code == "VALIDATION_ERROR"
    assert "/data/relationships/shipping_category" in invalid.value.message
    assert invalid.value.errors[0]["meta"]["error"] == "blank"
    assert "422 VALIDATION_ERROR" in str(invalid.value)


def test_no_error_carries_the_token(ct: Sandbox, ct_api: ApiClient) -> None:
    token = token_of(ct_api)
    ct_api.timeout = httpx.Timeout(0.3)
    ct_api.retry = RetryPolicy(attempts=1)
    faults: list[dict[str, Any]] = [
        {"drop": True},
        {"delay": 1.0},
        {"status": 503},
        {"status": 429, "retry_after": 0},
    ]
    for body in faults:
        fault(ct, path="/channels$", **body)
        with pytest.raises(ApiError) as caught:
            ct_api.request("GET", "channels")
        assert_no_secret(caught.value, token)
    with pytest.raises(NotFound) as missing:
        ct_api.request("GET", "channels/key=nope")
    assert_no_secret(missing.value, token)


def test_the_platforms_own_request_id_wins_over_ours() -> None:
    request = httpx.Request("GET", "https://api.example/p/x", headers={CORRELATION_HEADER: "ours"})
    theirs = httpx.Response(503, headers={"X-Correlation-ID": "theirs"}, request=request)
    assert error_from_response(theirs).request_id == "theirs"
    body = {"errors": [{"code": "X"}], "meta": {"trace_id": "trace"}}
    traced = httpx.Response(400, json=body, request=request)
    assert error_from_response(traced).request_id == "trace"
    assert error_from_response(httpx.Response(500, request=request)).request_id == "ours"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after(httpx.Response(429, headers={"Retry-After": later}), now) == 90
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}), now) == 7
    assert retry_after(httpx.Response(429, headers={"Retry-After": "1.5"}), now) == 1.5
    past = format_datetime(now - timedelta(seconds=5), usegmt=True)
    assert retry_after(httpx.Response(429, headers={"Retry-After": past}), now) == 0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"}), now) is None
    assert retry_after(httpx.Response(429), now) is None


def test_no_request_leaves_for_another_host(ct_api: ApiClient) -> None:
    with pytest.raises(ValueError, match="not the instance's API host"):
        ct_api.request("GET", "https://elsewhere.example/steal")
    assert ct_api.stats.sent == 0


# -- asyncio, and one client per instance --------------------------------------------------------


def test_the_async_twin_retries_alike(ct: Sandbox, ct_api: ApiClient) -> None:
    fault(ct, path="/channels$", status=503, count=2)
    fault(ct, method="POST", path="/channels$", drop=True)

    async def main() -> tuple[int, type[BaseException] | None]:
        status = (await ct_api.arequest("GET", "channels")).status_code
        try:
            await ct_api.arequest("POST", "channels", json=channel("async"))
        except Unreachable as exc:
            return status, type(exc)
        finally:
            await ct_api.aclose()
        return status, None

    assert asyncio.run(main()) == (200, Unreachable)
    assert counted(ct, f"GET {ct_path(ct, 'channels')}") == 3
    assert counted(ct, f"POST {ct_path(ct, 'channels')}") == 1


def test_platforms_of_one_instance_share_one_client(ct: Sandbox, open_platform: Opener) -> None:
    first = open_platform(ct, "one")
    second = cartwire.open("one")
    try:
        assert second.api is first.api
        assert open_platform(ct, "other").api is not first.api
    finally:
        second.close()
    assert not first.api.sync.is_closed  # still used by `first`


def test_one_client_keeps_one_connection_alive() -> None:
    with serve(size=5) as (url, served):
        api = ApiClient(url)
        for _ in range(20):
            api.request("GET", "cursor")
        api.close()
    assert len({port for _, _, port in served.requests}) == 1
