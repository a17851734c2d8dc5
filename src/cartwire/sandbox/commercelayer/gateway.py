"""The outermost ASGI layer: request counters and injected faults (docs/sandbox.md).

Admin paths (`/_sandbox/…`) pass straight through: never counted, never faulted. Every other
request is counted (`POST /oauth/token` as a token request, anything else as an API request
keyed `METHOD path`), then the first armed fault that matches may hold it until released
(`holds.py`), delay it, answer it with an error status in the platform's error format, or drop
the connection mid-response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import errors
from .holds import Holds

OAUTH_PATH = "/oauth/token"
ADMIN_PREFIX = "/_sandbox"
DROP_LOG_MESSAGE = "ASGI callable returned without completing response."
ARRIVALS_KEPT = 100_000


@dataclass
class Fault:
    id: str
    method: str | None
    path: str | None
    count: int
    status: int | None
    retry_after: float | None
    delay: float | None
    drop: bool
    hold: bool

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.search(self.path, path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "count": self.count,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "drop": self.drop,
            "hold": self.hold,
        }


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return float(value)


class Faults:
    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._next = 0

    def arm(self, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise ValueError("a fault must be a JSON object")
        known = {"method", "path", "count", "status", "retry_after", "delay", "drop", "hold"}
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string")
        path = body.get("path")
        if path is not None:
            if not isinstance(path, str):
                raise ValueError("path must be a string")
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from exc
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        status = body.get("status")
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
        ):
            raise ValueError("status must be an HTTP status code")
        drop = body.get("drop", False)
        hold = body.get("hold", False)
        if not isinstance(drop, bool) or not isinstance(hold, bool):
            raise ValueError("drop and hold must be booleans")
        self._next += 1
        fault = Fault(
            id=f"fault-{self._next}",
            method=method.upper() if method else None,
            path=path,
            count=count,
            status=status,
            retry_after=_number(body, "retry_after"),
            delay=_number(body, "delay"),
            drop=drop,
            hold=hold,
        )
        self._armed.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._armed:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count == 0:
                    self._armed.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        return [f.describe() for f in self._armed]

    def clear(self) -> None:
        self._armed.clear()


class Counters:
    """What came in: token and API requests, each API request by `METHOD path` and by when it
    arrived (the latest ARRIVALS_KEPT, for rates over windows), and the 429s answered."""

    def __init__(self) -> None:
        self.token_requests = 0
        self.api_requests = 0
        self.throttled = 0
        self.paths: Counter[str] = Counter()
        self.arrivals: deque[float] = deque(maxlen=ARRIVALS_KEPT)

    def count(self, method: str, path: str) -> None:
        if method == "POST" and path == OAUTH_PATH:
            self.token_requests += 1
        else:
            self.api_requests += 1
            self.paths[f"{method} {path}"] += 1
            self.arrivals.append(time.time())

    def answered(self, status: int) -> None:
        if status == 429:
            self.throttled += 1

    def describe(self) -> dict[str, Any]:
        return {
            "token_requests": self.token_requests,
            "api_requests": self.api_requests,
            "throttled": self.throttled,
            "paths": dict(self.paths),
        }

    def clear(self) -> None:
        self.token_requests = self.api_requests = self.throttled = 0
        self.paths.clear()
        self.arrivals.clear()


class DropLogFilter(logging.Filter):
    """Silences uvicorn's complaint about the responses that `drop` faults cut short."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_LOG_MESSAGE


def _fault_body(status: int, path: str) -> tuple[bytes, str]:
    error = errors.for_status(status)
    if path == OAUTH_PATH:
        obj = error.errors[0]
        body: Any = errors.auth_error_body(obj["title"], obj["detail"], obj["code"], status)
        return json.dumps(body).encode(), "application/json; charset=utf-8"
    return json.dumps({"errors": error.errors}).encode(), errors.MEDIA_TYPE


class Gateway:
    def __init__(self, app: ASGIApp, faults: Faults, counters: Counters, holds: Holds) -> None:
        self.app = app
        self.faults = faults
        self.counters = counters
        self.holds = holds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        self.counters.count(method, path)
        send = self._counting(send)
        fault = self.faults.take(method, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.hold:
            await self.holds.hold(fault.id, method, path)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await _drop(send)
        elif fault.status is not None:
            await _answer(send, fault, path)
        else:
            await self.app(scope, receive, send)

    def _counting(self, send: Send) -> Send:
        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.answered(message["status"])
            await send(message)

        return counted


async def _answer(send: Send, fault: Fault, path: str) -> None:
    assert fault.status is not None
    body, content_type = _fault_body(fault.status, path)
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if fault.retry_after is not None:
        retry = fault.retry_after
        headers.append((b"retry-after", str(int(retry) if retry == int(retry) else retry).encode()))
    start: Message = {"type": "http.response.start", "status": fault.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send) -> None:
    """Promise a body, send part of it, and return: uvicorn then closes the connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", errors.MEDIA_TYPE.encode()),
                (b"content-length", b"1024"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
