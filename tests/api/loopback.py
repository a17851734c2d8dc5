"""A tiny HTTP server on a free loopback port, for browser tests that need pages but no app.

It answers GET with fixed bodies from a table, so a test says exactly what the browser gets.
A `text/event-stream` body is sent as it is and the stream closed: enough for one round of
server-sent events (the browser reconnects, and gets the same events again).
"""

import contextlib
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


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


@contextlib.contextmanager
def serve(routes: Mapping[str, Body]) -> Iterator[str]:
    """Serve `routes` (path -> body) in a thread; yields the base URL, without a trailing '/'."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
