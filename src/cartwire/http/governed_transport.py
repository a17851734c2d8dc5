"""An httpx transport that keeps an instance's limits for a plain httpx client.

`cartwire.connect()` hands out an `httpx.Client` rather than an `ApiClient`; its requests still
wait for the same throttles (the instance's rate limit, the platform's known limits) and hold a
slot of the same concurrency pool as every other client of the instance in the process, and
its answers are counted in the process's `request_stats` as the `ApiClient`'s are.
"""

from collections.abc import Sequence

import httpx

from cartwire.http import request_stats
from cartwire.http.client import Throttle
from cartwire.http.concurrency_pool import ConcurrencyPool


def _observe(throttles: Sequence[Throttle], instance: str | None, response: httpx.Response) -> None:
    for throttle in throttles:
        throttle.observe(response)
    if instance is not None:
        request_stats.answered(instance, response.status_code)


class GovernedTransport(httpx.BaseTransport):
    def __init__(
        self,
        throttles: Sequence[Throttle],
        pool: ConcurrencyPool | None,
        inner: httpx.BaseTransport | None = None,
        *,
        instance: str | None = None,
    ) -> None:
        self.throttles = list(throttles)
        self.pool = pool
        self.instance = instance
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for throttle in self.throttles:
            throttle.acquire(request)
        if self.pool is None:
            response = self.inner.handle_request(request)
        else:
            with self.pool.hold():
                response = self.inner.handle_request(request)
        response.request = request  # what throttles read (httpx's client sets it only later)
        _observe(self.throttles, self.instance, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncGovernedTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        throttles: Sequence[Throttle],
        pool: ConcurrencyPool | None,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        instance: str | None = None,
    ) -> None:
        self.throttles = list(throttles)
        self.pool = pool
        self.instance = instance
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for throttle in self.throttles:
            await throttle.aacquire(request)
        if self.pool is None:
            response = await self.inner.handle_async_request(request)
        else:
            async with self.pool.ahold():
                response = await self.inner.handle_async_request(request)
        response.request = request  # what throttles read (httpx's client sets it only later)
        _observe(self.throttles, self.instance, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
