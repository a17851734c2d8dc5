"""Helpers for the commercetools resource tests: the sandbox's admin API (bulk load, faults,
held requests, counters), the URLs the platform requests, and small drafts.

Big collections are loaded with `/_sandbox/load` (one request), never created over HTTP.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from cartwire.resources import Platform
from cartwire.sandbox.manager import Sandbox

Json = dict[str, Any]


class Admin:
    """The sandbox's `/_sandbox/` API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.url = sandbox.url
        self.project = sandbox.credentials["project_key"]

    def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=120)
        response.raise_for_status()
        return response

    def load(self, kind: str, drafts: list[Json], timestamp: str | None = None) -> None:
        body: Json = {"type": kind, "drafts": drafts}
        if timestamp is not None:
            body["timestamp"] = timestamp
        assert self._call("POST", "load", body).json() == {"loaded": len(drafts)}

    def fault(self, **fault: Any) -> None:
        self._call("POST", "faults", fault)

    def faults(self) -> list[Json]:
        found: list[Json] = self._call("GET", "faults").json()
        return found

    def held(self) -> Json:
        """The first request a `hold` fault holds, once there is one (pytest-timeout ends a hang).

        A test acts while it is held, then releases it: no window of real time to hit."""
        while not (found := self._call("GET", "held").json()):
            time.sleep(0.01)
        first: Json = found[0]
        return first

    def release(self, held: Json) -> None:
        self._call("POST", "release", {"id": held["id"]})

    def clear_counters(self) -> None:
        self._call("DELETE", "counters")

    def counted(self) -> dict[str, int]:
        """Requests counted by `METHOD path`, token requests left out."""
        paths: dict[str, int] = self._call("GET", "counters").json()["paths"]
        return {key: n for key, n in paths.items() if not key.endswith("/oauth/token")}

    def requests(self, method: str, resource: str) -> int:
        """Requests counted for `METHOD /{project}/{resource}` exactly (no id after it)."""
        return self.counted().get(f"{method} /{self.project}/{resource}", 0)

    def writes(self) -> int:
        """Every counted request that could change data (anything but GET/HEAD and tokens)."""
        return sum(n for key, n in self.counted().items() if not key.startswith(("GET ", "HEAD ")))


@contextmanager
def sent_urls(platform: Platform) -> Iterator[list[httpx.URL]]:
    """The URLs of the requests the platform's synchronous client sends meanwhile."""
    urls: list[httpx.URL] = []

    def hook(request: httpx.Request) -> None:
        urls.append(request.url)

    hooks = platform.api.sync.event_hooks["request"]
    hooks.append(hook)
    try:
        yield urls
    finally:
        hooks.remove(hook)


# -- drafts ------------------------------------------------------------------------------------


def customer(n: int, **fields: Any) -> Json:
    return {"email": f"customer-{n:06d}@example.com", "key": f"customer-{n:06d}", **fields}


def product_type(key: str = "tshirt") -> Json:
    return {
        "key": key,
        "name": key.title(),
        "description": f"{key} products",
        "attributes": [
            {
                "name": name,
                "label": {"en": name.title()},
                "isRequired": False,
                "type": {"name": "text"},
                "attributeConstraint": "None",
                "isSearchable": True,
                "inputHint": "SingleLine",
            }
            for name in ("color", "size")
        ],
    }


def variant(sku: str, size: str, cents: int = 1999, images: int = 1) -> Json:
    return {
        "sku": sku,
        "attributes": [{"name": "color", "value": "red"}, {"name": "size", "value": size}],
        "prices": [
            {"value": {"currencyCode": "EUR", "centAmount": cents}, "country": "DE"},
            {"value": {"currencyCode": "USD", "centAmount": cents + 200}},
        ],
        "images": [
            {"url": f"https://img.example.com/{sku}/{i}.png", "dimensions": {"w": 800, "h": 800}}
            for i in range(images)
        ],
    }


def product(n: int, **fields: Any) -> Json:
    """A published two-variant product of type `tshirt`."""
    return {
        "key": f"product-{n:06d}",
        "productType": {"typeId": "product-type", "key": "tshirt"},
        "name": {"en": f"Shirt {n}", "de": f"Hemd {n}"},
        "slug": {"en": f"shirt-{n}"},
        "description": {"en": "A shirt."},
        "masterVariant": variant(f"SKU-{n:06d}-M", "M"),
        "variants": [variant(f"SKU-{n:06d}-L", "L")],
        "publish": True,
        **fields,
    }


def bare_product(n: int) -> Json:
    """The smallest product draft (for loading many)."""
    return {
        "key": f"product-{n:06d}",
        "productType": {"typeId": "product-type", "key": "tshirt"},
        "name": {"en": f"Shirt {n}"},
        "slug": {"en": f"shirt-{n}"},
        "masterVariant": {"sku": f"SKU-{n:06d}"},
    }


def category(key: str, parent: str | None = None) -> Json:
    draft: Json = {"key": key, "name": {"en": key.title()}, "slug": {"en": key}}
    if parent is not None:
        draft["parent"] = {"typeId": "category", "key": parent}
    return draft


def channel(key: str) -> Json:
    return {"key": key, "roles": ["InventorySupply"], "name": {"en": key.upper()}}
