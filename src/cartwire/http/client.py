"""One pooled, keep-alive API client per instance: auth, throttles, retries, typed errors.

Every request of an instance goes through here, so the rules live in one place: requests wait
for the instance's rate limit and the platform's known limits (`Throttle`s), a shared
concurrency pool caps how many are in flight, and 429/502/503/504 and dropped connections are
retried with exponential backoff and jitter, honouring `Retry-After`.

What may be repeated: a 429 always (the platform refused before doing any work), and so may a
request that never reached the server (connection refused, connect or pool timeout). Anything
else that failed part-way (a 5xx, a dropped connection, a read timeout) may have been applied,
so it is repeated only for idempotent methods, or when the caller's `safe_retry` says a repeat
cannot create a second record; a `safe_retry` callable is asked just before the repeat, after
the backoff, when the first attempt has had the longest time to land.
"""

import asyncio
import logging
import random
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from cartwire.http import request_stats
from cartwire.http.concurrency_pool import ConcurrencyPool
from cartwire.http.errors import (
    CORRELATION_HEADER,
    ApiError,
    error_from_response,
    error_from_transport,
)

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
# Failures where the request provably never reached the server: always safe to send again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Whether a request that may have been applied may be sent again: True/False, or a check run
# just before the repeat (e.g. "no record with this key exists yet"). None: by HTTP method.
SafeRetry = bool | Callable[[], bool] | None

__all__ = ["ApiClient", "ConcurrencyPool", "RetryPolicy", "SafeRetry", "Throttle", "retry_after"]


class Throttle(Protocol):
    """Holds requests back before they are sent and learns from the answers."""

    def acquire(self, request: httpx.Request) -> None: ...

    async def aacquire(self, request: httpx.Request) -> None: ...

    def observe(self, response: httpx.Response) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial: float = 0.25  # first backoff ceiling in seconds, doubling per attempt
    maximum: float = 30.0  # backoff ceiling
    # A Retry-After longer than this is not waited out: the request fails as RateLimited or
    # ServerError with `retry_after` set, so a scheduler can come back later.
    max_retry_after: float = 300.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})


@dataclass
class ApiStats:
    """What the client did, for benchmarks and summaries (requests sent counts every attempt)."""

    sent: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Failed(Exception):
    """An attempt that failed: the answer (or transport error) it failed with."""

    def __init__(
        self,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
        wait: float | None = None,
        check: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self.response = response
        self.error = error
        self.wait = wait  # what Retry-After asked for
        self.check = check  # asked before the repeat; False ends the retries

    def api_error(self, request: httpx.Request) -> ApiError:
        if self.response is not None:
            return error_from_response(self.response, self.wait)
        assert self.error is not None
        return error_from_transport(request, self.error)


class _Retry(_Failed):
    """Worth another attempt."""


class _Stop(_Failed):
    """Not to be repeated: it may have been applied, or the platform asked for too long a wait."""


@dataclass
class _Call:
    """One logical request across its attempts (shared by the sync and async paths)."""

    client: "ApiClient"
    request: httpx.Request
    safe_retry: SafeRetry
    pending_check: Callable[[], bool] | None = None
    last: _Failed | None = None

    def before_attempt(self) -> None:
        check, self.pending_check = self.pending_check, None
        if check is not None and not check():
            assert self.last is not None
            raise _Stop(self.last.response, self.last.error)

    def _repeat_rule(self) -> tuple[bool, Callable[[], bool] | None]:
        """(may repeat, check first) for a failure that may have been applied."""
        safe = self.safe_retry
        if safe is None:
            return self.request.method in IDEMPOTENT_METHODS, None
        if callable(safe):
            return True, safe
        return safe, None

    def judge(self, response: httpx.Response) -> httpx.Response:
        client = self.client
        with client._stats_lock:
            client.stats.statuses[response.status_code] += 1
        if client.instance is not None:
            request_stats.answered(client.instance, response.status_code)
        for throttle in client.throttles:
            throttle.observe(response)
        if response.status_code not in client.retry.statuses:
            return response
        wait = retry_after(response)
        if wait is not None and wait > client.retry.max_retry_after:
            raise self._fail(_Stop(response, wait=wait))
        if response.status_code == 429:
            raise self._fail(_Retry(response, wait=wait))
        repeat, check = self._repeat_rule()
        kind = _Retry if repeat else _Stop
        raise self._fail(kind(response, wait=wait, check=check))

    def transport_failed(self, error: httpx.TransportError) -> _Failed:
        with self.client._stats_lock:
            self.client.stats.transport_errors += 1
        if isinstance(error, NOT_SENT):
            return self._fail(_Retry(error=error))
        repeat, check = self._repeat_rule()
        return self._fail((_Retry if repeat else _Stop)(error=error, check=check))

    def _fail(self, failed: _Failed) -> _Failed:
        self.last = failed
        self.pending_check = failed.check if isinstance(failed, _Retry) else None
        return failed


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


@dataclass
class ApiClient:
    """The HTTP side of one instance. Create it once and share it: it owns the connection pools
    (one keep-alive `httpx.Client`, and one `httpx.AsyncClient` per event loop that uses it)."""

    base_url: str
    auth: httpx.Auth | None = None
    headers: dict[str, str] = field(default_factory=dict)
    throttles: list[Throttle] = field(default_factory=list)
    pool: ConcurrencyPool | None = None
    instance: str | None = None  # the instance's name, for the process's `request_stats`
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(30.0, connect=10.0))
    max_connections: int = 32
    # Where the bytes go; None means httpx's own. Tests wrap these to watch what is in flight.
    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None
    stats: ApiStats = field(default_factory=ApiStats)
    _sync: httpx.Client | None = field(default=None, repr=False)
    _async: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stats_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def retries_made(self) -> int:
        return self.stats.retries

    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url.rstrip("/") + "/",
            "auth": self.auth,
            "headers": self.headers,
            "timeout": self.timeout,
            "limits": httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
        }

    @property
    def sync(self) -> httpx.Client:
        with self._lock:
            if self._sync is None:
                self._sync = httpx.Client(transport=self.transport, **self._options())
            return self._sync

    @property
    def asynchronous(self) -> httpx.AsyncClient:
        """The running loop's client: an AsyncClient's connections belong to one event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async.get(loop)
            if client is None:
                client = httpx.AsyncClient(transport=self.async_transport, **self._options())
                self._async[loop] = client
            return client

    def close(self) -> None:
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close this loop's async client (and the sync one: `async with` ends all use)."""
        with self._lock:
            client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        self.close()

    # -- retry rules -------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        with self._stats_lock:
            self.stats.retries += 1
        failed = state.outcome.exception() if state.outcome else None
        if isinstance(failed, _Failed) and failed.wait is not None:
            # Never earlier than asked; a little later, so that waiting clients spread out.
            return failed.wait + random.uniform(0, min(1.0, 0.1 * failed.wait + 0.05))
        ceiling = min(self.retry.maximum, self.retry.initial * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)  # exponential backoff, "equal jitter"

    def _retrying(self, kind: type[Retrying] | type[AsyncRetrying]) -> Any:
        return kind(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            reraise=True,
        )

    def _build(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        params: Any,
        json: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Request:
        # httpx replaces a URL's query with `params` (even empty ones): a next-page URL or a
        # path with its own query keeps it, and `params` add to it.
        target = httpx.URL(path.lstrip("/"))
        if params:
            target = target.copy_merge_params(params)
        request = client.build_request(
            method,
            target,
            json=json,
            headers={CORRELATION_HEADER: f"cartwire-{uuid.uuid4().hex}", **(headers or {})},
        )
        if not _same_origin(request.url, client.base_url):
            # A next-page URL from a response must not carry the instance's token elsewhere.
            raise ValueError(
                f"refusing to send {method} to {request.url.scheme}://{request.url.host}: "
                f"not the instance's API host {client.base_url.host}"
            )
        return request

    def _count_sent(self) -> None:
        with self._stats_lock:
            self.stats.sent += 1

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        safe_retry: SafeRetry = None,
    ) -> httpx.Response:
        """Send a request and return its (successful) response, or raise an `ApiError`."""
        client = self.sync
        call = _Call(self, self._build(client, method, path, params, json, headers), safe_retry)
        failure: ApiError | None = None
        try:
            for attempt in self._retrying(Retrying):
                with attempt:
                    call.before_attempt()
                    response = call.judge(self._send(client, call))
        except _Failed as failed:
            failure = failed.api_error(call.request)
        if failure is not None:
            raise failure  # outside the `except`: no httpx exception chained as its context
        if response.is_error:
            raise error_from_response(response)
        return response

    def _send(self, client: httpx.Client, call: _Call) -> httpx.Response:
        for throttle in self.throttles:
            throttle.acquire(call.request)
        try:
            self._count_sent()
            if self.pool is None:
                return client.send(call.request)
            with self.pool.hold():
                return client.send(call.request)
        except httpx.TransportError as exc:
            raise call.transport_failed(exc) from None

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        safe_retry: SafeRetry = None,
    ) -> httpx.Response:
        """The asyncio twin of `request`."""
        client = self.asynchronous
        call = _Call(self, self._build(client, method, path, params, json, headers), safe_retry)
        failure: ApiError | None = None
        try:
            async for attempt in self._retrying(AsyncRetrying):
                with attempt:
                    call.before_attempt()
                    response = call.judge(await self._asend(client, call))
        except _Failed as failed:
            failure = failed.api_error(call.request)
        if failure is not None:
            raise failure
        if response.is_error:
            raise error_from_response(response)
        return response

    async def _asend(self, client: httpx.AsyncClient, call: _Call) -> httpx.Response:
        for throttle in self.throttles:
            await throttle.aacquire(call.request)
        try:
            self._count_sent()
            if self.pool is None:
                return await client.send(call.request)
            async with self.pool.ahold():
                return await client.send(call.request)
        except httpx.TransportError as exc:
            raise call.transport_failed(exc) from None


_shared: dict[str, tuple[ApiClient, int]] = {}
_shared_lock = threading.Lock()


def shared_client(key: str, build: Callable[[], ApiClient]) -> ApiClient:
    """The process's one `ApiClient` for `key` (an instance and its settings), built on first
    use; every `shared_client` call must be paired with a `release_client`."""
    with _shared_lock:
        api, users = _shared.get(key) or (build(), 0)
        _shared[key] = (api, users + 1)
        return api


def release_client(key: str) -> ApiClient | None:
    """Drop one use of the shared client; returns it when that was the last use (to close)."""
    with _shared_lock:
        api, users = _shared[key]
        if users > 1:
            _shared[key] = (api, users - 1)
            return None
        del _shared[key]
        return api
