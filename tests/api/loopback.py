"""Fixed pages on a free loopback port (`tests.http.server_thread`), for browser tests that need
pages but no app.

It answers GET with fixed bodies from a table, so a test says exactly what the browser gets.
A `text/event-stream` body is sent as it is and the stream closed: enough for one round of
server-sent events (the browser reconnects, and gets the same events again).
"""

from collections.abc import Mapping
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple

from tests.http.server_thread import running


class Body(NamedTuple):
    content_type: str
    content: bytes


def _handler(routes: Mapping[str, Body]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", body.content_type)
            self.send_header("Content-Length", str(len(body.content)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body.content)

        def log_message(self, format: str, *args: Any) -> None:
            """No log line per request on the test's stderr."""

    return Handler


def serve(routes: Mapping[str, Body]) -> AbstractContextManager[str]:
    """Serve `routes` (path -> body) in a thread; yields the base URL, without a trailing '/'."""
    return running(_handler(routes))
