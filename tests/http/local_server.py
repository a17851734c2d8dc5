"""A small real HTTP server (stdlib `http.server`) for what the sandboxes do not offer.

It serves one deterministic collection (ids 1..N) in each generic paging style, so user-written
connector files' strategies can be walked against real HTTP: `/api/orders` pages the way JSON:API
servers do (`page[number]`/`page[size]`, a default and a cap of its own on the size, the total
in `meta.total`, any other parameter ignored), and `truncate_at` makes every style stop serving
records before the total it reports (a broken server). There is a `/token` endpoint for
connector files read end to end, and a `/things` resource whose create lands *before* a slow
answer, the one fault the sandboxes cannot produce (their `drop` and `delay` faults both stop
before the request is applied). It remembers the client port of every
request, which shows whether connections were kept alive.
"""

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.http.server_thread import running


@dataclass
class Served:
    """What the server saw and holds; read by the tests."""

    size: int
    max_offset: int | None = None
    truncate_at: int | None = None  # serve no record past this position (totals still say size)
    limit_max: int | None = None  # /limit_offset: the largest limit it serves
    page_default: int = 10  # /jsonapi: the page size when none (or an unknown parameter) is sent
    page_max: int = 25  # /jsonapi: the largest page size it serves
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, port
    things: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def records(self, start: int, count: int) -> list[dict[str, Any]]:
        """Records after position `start` (0-based), at most `count` of them."""
        stop = min(self.size if self.truncate_at is None else self.truncate_at, start + count)
        return [{"id": n, "name": f"record {n}"} for n in range(start + 1, stop + 1)]


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    return int(query.get(name, [str(default)])[0])


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"after:{position}".encode()).decode()


def _position(cursor: str) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1])


class JsonHandler(BaseHTTPRequestHandler):
    """A keep-alive handler answering JSON, quiet (tests read what the server counted)."""

    protocol_version = "HTTP/1.1"  # keep-alive
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits for
    # the client's delayed ACK (~40 ms a request), which made a walk of 239 pages take 12 s.
    disable_nagle_algorithm = True
    content_type = "application/json"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read what the server counted instead."""

    def _reply(
        self, status: int, body: Any, headers: dict[str, str] | None = None, delay: float = 0
    ) -> None:
        """`body` as JSON (None: an empty body), after `delay` seconds."""
        data = b"" if body is None else json.dumps(body).encode()
        if delay:
            time.sleep(delay)
        self.send_response(status)
        if data:
            self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))


class _Handler(JsonHandler):
    served: Served

    def _seen(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        with self.served.lock:
            self.served.requests.append((self.command, parts.path, self.client_address[1]))
        return parts.path, parse_qs(parts.query)

    def do_GET(self) -> None:
        path, query = self._seen()
        served = self.served
        if path == "/limit_offset":
            limit, offset = _int(query, "limit", 10), _int(query, "offset", 0)
            limit = min(limit, served.limit_max or limit)
            if served.max_offset is not None and offset > served.max_offset:
                self._reply(400, {"error": f"offset above {served.max_offset}"})
                return
            self._reply(200, {"items": served.records(offset, limit), "total": served.size})
        elif path == "/page_number":
            page, size = _int(query, "page", 1), _int(query, "page_size", 10)
            pages = -(-served.size // size)
            self._reply(200, {"items": served.records((page - 1) * size, size), "pages": pages})
        elif path == "/next_url":
            after, size = _int(query, "after", 0), _int(query, "size", 10)
            items = served.records(after, size)
            following = None
            if items and items[-1]["id"] < served.size:
                following = "/next_url?" + urlencode({"after": items[-1]["id"], "size": size})
            body = {"items": items, "links": {"next": following}, "total": served.size}
            self._reply(200, body)
        elif path == "/link_header":
            page, size = _int(query, "page", 1), _int(query, "per_page", 10)
            headers = {}
            if page * size < served.size:
                host = self.headers["Host"]
                target = f"http://{host}/link_header?page={page + 1}&per_page={size}"
                headers["Link"] = (
                    f'<{target}>; rel="next", <http://{host}/link_header>; rel="first"'
                )
            self._reply(200, served.records((page - 1) * size, size), headers)
        elif path == "/cursor":
            cursor, limit = query.get("cursor", [None])[0], _int(query, "limit", 10)
            start = _position(cursor) if cursor else 0
            items = served.records(start, limit)
            more = bool(items) and start + len(items) < served.size
            following = _cursor(start + len(items)) if more else None
            if "stuck" in query:  # a broken server: the same cursor every time
                following = _cursor(0)
            self._reply(200, {"items": items, "next_cursor": following, "total": served.size})
        elif path == "/api/orders":
            number = _int(query, "page[number]", 1)
            size = min(_int(query, "page[size]", served.page_default), served.page_max)
            items = served.records((number - 1) * size, size)
            meta = {} if "no_total" in query else {"total": served.size}
            self._reply(200, {"data": items, "meta": meta})
        elif path == "/things":
            key = query.get("key", [""])[0]
            with served.lock:
                found = [served.things[key]] if key in served.things else []
            self._reply(200, {"items": found})
        else:
            self._reply(404, {"error": "no such path"})

    def do_POST(self) -> None:
        path, query = self._seen()
        data = self._body()
        if path == "/token":  # any client credentials will do
            self._reply(200, {"access_token": "local-token", "expires_in": 3600})
            return
        thing = json.loads(data)
        if path != "/things":
            self._reply(404, {"error": "no such path"})
            return
        with self.served.lock:
            if thing["key"] in self.served.things:
                self._reply(409, {"error": "duplicate key"})
                return
            self.served.things[thing["key"]] = thing
        # Applied; now answer late, so a client with a short timeout never hears of it.
        self._reply(201, thing, delay=float(query.get("delay", ["0"])[0]))


@contextmanager
def serve(
    size: int = 0, max_offset: int | None = None, **faults: Any
) -> Iterator[tuple[str, Served]]:
    """Run the server on a free loopback port for the duration of the block (`faults`: the
    other fields of `Served`)."""
    served = Served(size, max_offset, **faults)
    with running(type("Handler", (_Handler,), {"served": served})) as url:
        yield url, served
