"""Helpers shared by tests that run the real `cartwire` console script."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

CARTWIRE = str(Path(sys.executable).parent / "cartwire")


def run_cli(
    home: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run `cartwire ARGS` with CARTWIRE_HOME=home, capturing everything it prints."""
    return subprocess.run(
        [CARTWIRE, *args],
        env={**os.environ, "CARTWIRE_HOME": str(home), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class InFlight:
    """Counts requests in flight through a transport (sync or async), and the most at once:
    concurrency is asserted from what really reached the socket, not inferred from timings."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class CountingTransport(httpx.HTTPTransport):
    """Counts a request as in flight until its body has been read."""

    def __init__(self, counter: InFlight) -> None:
        super().__init__()
        self.counter = counter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.counter.enter()
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            self.counter.leave()


class AsyncCountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, counter: InFlight) -> None:
        super().__init__()
        self.counter = counter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counter.enter()
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.counter.leave()
