"""Helpers for the Commerce Layer resource tests: the sandbox's admin API (bulk load, faults,
counters, rate limits), its requests as the platform sends them, and small records.

Big collections are loaded with `/_sandbox/load` (one request), never created over HTTP.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from cartwire.platforms.commercelayer.limits import CommerceLayerLimits
from cartwire.resources import Platform
from cartwire.sandbox.commercelayer.baseline import baseline_id
from cartwire.sandbox.manager import Sandbox

Json = dict[str, Any]
MERCHANDISE = baseline_id("shipping_categories", "merchandise")
EUR = baseline_id("price_lists", "eur")
WAREHOUSE = baseline_id("stock_locations", "eu-warehouse")
EUROPE = baseline_id("markets", "europe")


def pace(platform: Platform, throttle: CommerceLayerLimits) -> None:
    """Give the platform's client this throttle instead of the connector file's."""
    api = platform.api
    api.throttles[:] = [t for t in api.throttles if not isinstance(t, CommerceLayerLimits)]
    api.throttles.append(throttle)


class Admin:
    """The sandbox's `/_sandbox/` API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.url = sandbox.url

    def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=120)
        response.raise_for_status()
        return response

    def load(self, kind: str, records: list[Json], timestamp: str | None = None) -> list[str]:
        body: Json = {"type": kind, "records": records}
        if timestamp is not None:
            body["timestamp"] = timestamp
        ids: list[str] = self._call("POST", "load", body).json()["ids"]
        return ids

    def fault(self, **fault: Any) -> None:
        self._call("POST", "faults", fault)

    def limits(self, value: Any) -> None:
        self._call("PATCH", "config", {"rate_limits": value})

    def clear_counters(self) -> None:
        self._call("DELETE", "counters")

    def paths(self) -> dict[str, int]:
        found: dict[str, int] = self._call("GET", "counters").json()["paths"]
        return found

    def requests(self, method: str, resource: str) -> int:
        """Requests counted for `METHOD /api/{resource}` exactly."""
        return self.paths().get(f"{method} /api/{resource}", 0)

    def writes(self) -> int:
        """Every counted request that could change data (anything but GETs and tokens)."""
        return sum(
            n
            for key, n in self.paths().items()
            if not key.startswith(("GET ", "HEAD ")) and not key.endswith("/oauth/token")
        )


def sku(n: int, **attributes: Any) -> Json:
    """A SKU as `/_sandbox/load` takes it."""
    return {
        "attributes": {"code": f"SKU-{n:05d}", "name": f"Sku {n}", **attributes},
        "relationships": {"shipping_category": {"type": "shipping_categories", "id": MERCHANDISE}},
    }


def skus(admin: Admin, count: int, start: int = 0, timestamp: str | None = None) -> list[str]:
    return admin.load("skus", [sku(n) for n in range(start, start + count)], timestamp)


@contextmanager
def watched(platform: Platform) -> Iterator[list[httpx.Request]]:
    """The requests the platform's synchronous client sends meanwhile."""
    sent: list[httpx.Request] = []
    hooks = platform.api.sync.event_hooks["request"]
    hooks.append(sent.append)
    try:
        yield sent
    finally:
        hooks.remove(sent.append)
