"""Stockroom: the small public-style inventory API of the worked example in docs/examples/.

A real HTTP server on 127.0.0.1 (stdlib, `tests.http.server_thread`) with what an API a user
writes a connector file for usually has:
- `POST /oauth/token`: OAuth 2 client credentials (HTTP Basic); every other request needs its
  bearer token (401 otherwise);
- `/v1/products`, plain JSON: `limit`/`offset` pages (at most 50) with `total`, `?sku=A,B,C`
  (a comma-separated list), `POST` a `{"product": {...}}` (409 when the SKU is taken, 422
  without a sku or name), `PATCH` (the fields given) and `PUT` (the whole record) at
  `/v1/products/{id}`, `DELETE`. It stores a price as a string with two decimals, as many
  APIs do, so `12.5` reads back as `"12.50"`;
- `/jsonapi/products` and `/jsonapi/categories`, the same as JSON:API: `page[number]`/
  `page[size]` (at most 25) with `meta.total`, `filter[sku]=A,B`, `include=category`, `POST`
  and `PATCH` of `{"data": {...}}` in `application/vnd.api+json` (415 in anything else);
- counters of every request by method and path, which is what the tests assert on ("a re-run
  writes nothing" is zero POST/PATCH/PUT at the server, not a claim of the client).
"""

import base64
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http.local_server import JsonHandler
from tests.http.server_thread import running

CLIENT_ID = "stockroom-client"
CLIENT_SECRET = "stockroom-secret-value"
TOKEN = "stockroom-token"
REST_MAX = 50
JSONAPI_MAX = 25
MEDIA_TYPE = "application/vnd.api+json"
CATEGORIES = {"cat-tools": "Tools", "cat-garden": "Garden"}
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def price(value: Any) -> str:
    return f"{float(value):.2f}"


@dataclass
class Stockroom:
    """What the server holds and counted; tests read and change it directly."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # /v1, by id
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # /jsonapi, by id
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, path)
    queries: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    bodies: list[tuple[str, str, Any]] = field(default_factory=list)  # of writes: method, path
    # SKUs that the next N reads of /v1/products leave out (as if another client created them
    # just after): what makes a create collide with a record its lookup did not see.
    unseen: Counter[str] = field(default_factory=Counter)
    # SKUs whose next N creates at /v1/products are applied and then left unanswered, the
    # connection closed: a write that landed but whose answer never came.
    unanswered: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def writes(self, prefix: str = "/") -> int:
        """Requests that could change a record, under `prefix`."""
        return sum(n for (m, p), n in self.requests.items() if m in WRITES and p.startswith(prefix))

    def count(self, method: str, prefix: str) -> int:
        return sum(n for (m, p), n in self.requests.items() if m == method and p.startswith(prefix))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    def add_product(self, **fields: Any) -> dict[str, Any]:
        record = {"id": self.next_id("p"), **fields, "created_at": "2024-05-01T10:00:00Z"}
        record["price"] = price(record.get("price", 0))
        record["updated_at"] = record["created_at"]
        self.products[record["id"]] = record
        return record

    def add_resource(self, category: str | None = None, **attributes: Any) -> dict[str, Any]:
        key = self.next_id("r")
        attributes["price"] = price(attributes.get("price", 0))
        resource = {"id": key, "attributes": attributes, "category": category}
        self.resources[key] = resource
        return resource


def catalogue(count: int) -> list[dict[str, Any]]:
    """`count` products as a supplier lists them: a SKU, a name, a price, stock, attributes."""
    return [
        {
            "sku": f"SKU-{n:03d}",
            "name": f"Product {n}",
            "price": 5 + n / 2,
            "stock": n * 3,
            "attributes": {"color": ["red", "green", "blue"][n % 3], "size": "M"},
        }
        for n in range(1, count + 1)
    ]


class _Handler(JsonHandler):
    room: Stockroom

    # -- plumbing ------------------------------------------------------------------------------

    def _start(self) -> tuple[str, dict[str, list[str]]] | None:
        """The path and query of an authorised request (counted), or None once refused."""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.room.lock:
            self.room.requests[(self.command, parts.path)] += 1
            self.room.queries.append((self.command, parts.path, query))
        if parts.path == "/oauth/token":
            return parts.path, query
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"errors": [{"code": "unauthorized", "message": "no token"}]})
            return None
        return parts.path, query

    def _json(self) -> Any:
        body = json.loads(self._body() or b"null")
        self.room.bodies.append((self.command, urlsplit(self.path).path, body))
        return body

    def _error(self, status: int, code: str, message: str) -> None:
        if self.path.startswith("/jsonapi"):
            error = {"status": str(status), "code": code, "title": code, "detail": message}
            self._reply(status, {"errors": [error]})
        else:
            self._reply(status, {"errors": [{"code": code, "message": message}]})

    def _route(self) -> None:
        started = self._start()
        if started is None:
            return
        path, query = started
        parts = path.strip("/").split("/")
        self.content_type = MEDIA_TYPE if parts[0] == "jsonapi" else "application/json"
        with self.room.lock:
            if path == "/oauth/token" and self.command == "POST":
                self._token()
            elif parts[:2] == ["v1", "products"]:
                self._rest(parts[2] if len(parts) > 2 else None, query)
            elif parts[:1] == ["jsonapi"] and len(parts) > 1:
                self._jsonapi(parts[1], parts[2] if len(parts) > 2 else None, query)
            else:
                self._error(404, "not_found", f"no {self.command} {path}")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _route

    def _token(self) -> None:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(self._body().decode())
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._reply(401, {"error": "invalid_client"})
        elif form.get("grant_type") != ["client_credentials"]:
            self._reply(400, {"error": "unsupported_grant_type"})
        else:
            self._reply(200, {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600})

    # -- /v1: plain JSON -----------------------------------------------------------------------

    def _rest(self, item: str | None, query: dict[str, list[str]]) -> None:
        products = self.room.products
        if item is None and self.command == "GET":
            self._rest_list(query)
        elif item is None and self.command == "POST":
            given = (self._json() or {}).get("product")
            if not isinstance(given, dict) or not given.get("sku") or not given.get("name"):
                self._error(422, "invalid", "a product needs a sku and a name")
            elif any(p["sku"] == given["sku"] for p in products.values()):
                self._error(409, "taken", f"sku {given['sku']} is taken")
            else:
                created = self.room.add_product(**given)
                if self.room.unanswered[given["sku"]] > 0:
                    self.room.unanswered[given["sku"]] -= 1
                    self.close_connection = True  # no answer at all: the client sees it drop
                    return
                self._reply(201, {"product": created})
        elif item not in products:
            self._error(404, "not_found", f"no product {item}")
        elif self.command == "GET":
            self._reply(200, {"product": products[item]})
        elif self.command in ("PATCH", "PUT"):
            given = (self._json() or {}).get("product")
            if not isinstance(given, dict):
                self._error(422, "invalid", "the body needs a product")
                return
            kept = {k: products[item][k] for k in ("id", "created_at")}
            record = {**products[item], **given} if self.command == "PATCH" else dict(given)
            record.update(kept, updated_at="2024-06-01T10:00:00Z")
            record["price"] = price(record.get("price", 0))
            products[item] = record
            self._reply(200, {"product": record})
        elif self.command == "DELETE":
            del products[item]
            self._reply(204, None)

    def _rest_list(self, query: dict[str, list[str]]) -> None:
        limit = min(int(query.get("limit", ["20"])[0]), REST_MAX)
        offset = int(query.get("offset", ["0"])[0])
        found = sorted(self.room.products.values(), key=lambda p: int(p["id"][1:]))
        if "sku" in query:
            skus = {s for value in query["sku"] for s in value.split(",")}
            found = [p for p in found if p["sku"] in skus]
        hidden = {p["sku"] for p in found if self.room.unseen[p["sku"]] > 0}
        self.room.unseen.subtract(hidden)
        found = [p for p in found if p["sku"] not in hidden]
        self._reply(200, {"products": found[offset : offset + limit], "total": len(found)})

    # -- /jsonapi ------------------------------------------------------------------------------

    def _document(self, resource: dict[str, Any]) -> dict[str, Any]:
        category = resource["category"]
        linkage = None if category is None else {"type": "categories", "id": category}
        return {
            "id": resource["id"],
            "type": "products",
            "attributes": resource["attributes"],
            "relationships": {"category": {"data": linkage}},
            "links": {"self": f"/jsonapi/products/{resource['id']}"},
        }

    def _category(self, key: str) -> dict[str, Any]:
        return {"id": key, "type": "categories", "attributes": {"name": CATEGORIES[key]}}

    def _jsonapi(self, kind: str, item: str | None, query: dict[str, list[str]]) -> None:
        if self.command in ("POST", "PATCH") and self.headers.get("Content-Type") != MEDIA_TYPE:
            self._error(415, "unsupported_media_type", f"send {MEDIA_TYPE}")
        elif kind == "categories" and self.command == "GET":
            data = [self._category(key) for key in sorted(CATEGORIES)]
            self._reply(200, {"data": data, "meta": {"total": len(data)}})
        elif kind != "products":
            self._error(404, "not_found", f"no {kind}")
        elif item is None and self.command == "GET":
            self._jsonapi_list(query)
        elif item is None and self.command == "POST":
            self._jsonapi_write(None)
        elif item not in self.room.resources:
            self._error(404, "not_found", f"no product {item}")
        elif self.command == "PATCH":
            self._jsonapi_write(item)
        elif self.command == "GET":
            self._reply(200, {"data": self._document(self.room.resources[item])})
        else:
            self._error(405, "method_not_allowed", self.command)

    def _jsonapi_list(self, query: dict[str, list[str]]) -> None:
        number = int(query.get("page[number]", ["1"])[0])
        size = min(int(query.get("page[size]", ["10"])[0]), JSONAPI_MAX)
        found = sorted(self.room.resources.values(), key=lambda r: int(r["id"][1:]))
        if "filter[sku]" in query:
            skus = {s for value in query["filter[sku]"] for s in value.split(",")}
            found = [r for r in found if r["attributes"].get("sku") in skus]
        page = found[(number - 1) * size : number * size]
        body: dict[str, Any] = {
            "data": [self._document(r) for r in page],
            "meta": {"total": len(found)},
        }
        if query.get("include") == ["category"]:
            linked = sorted({r["category"] for r in page if r["category"]})
            body["included"] = [self._category(key) for key in linked]
        self._reply(200, body)

    def _jsonapi_write(self, item: str | None) -> None:
        data = (self._json() or {}).get("data")
        if not isinstance(data, dict) or data.get("type") != "products":
            self._error(409, "type_mismatch", "data.type must be products")
            return
        if item is not None and data.get("id") != item:
            self._error(409, "id_mismatch", "data.id must be the record's id")
            return
        attributes = data.get("attributes") or {}
        linkage = ((data.get("relationships") or {}).get("category") or {}).get("data", ...)
        sku = attributes.get("sku")
        resources = self.room.resources
        if any(r["attributes"].get("sku") == sku and r["id"] != item for r in resources.values()):
            self._error(409, "taken", f"sku {sku} is taken")
            return
        if linkage not in (..., None) and linkage.get("id") not in CATEGORIES:
            self._error(422, "invalid", "no such category")
            return
        if item is None:
            if not sku:
                self._error(422, "invalid", "a product needs a sku")
                return
            category = None if linkage in (..., None) else linkage["id"]
            self._reply(
                201, {"data": self._document(self.room.add_resource(category, **attributes))}
            )
            return
        resource = resources[item]
        resource["attributes"] = {**resource["attributes"], **attributes}
        resource["attributes"]["price"] = price(resource["attributes"].get("price", 0))
        if linkage is not ...:
            resource["category"] = None if linkage is None else linkage["id"]
        self._reply(200, {"data": self._document(resource)})


@contextmanager
def serve_stockroom() -> Iterator[tuple[str, Stockroom]]:
    """A Stockroom server for the duration of the block: its URL and what it holds."""
    room = Stockroom()
    with running(type("Handler", (_Handler,), {"room": room})) as url:
        yield url, room
