"""A stdlib HTTP server (`http.server`) on a free loopback port, in a thread of the test.

The one way the tests serve HTTP of their own (the paging server in `local_server`, the
Stockroom example API, the fixed pages of the browser tests): the handler says what is
answered; this says where, and that the server is gone when the block ends.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def running(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port for the duration of the block; its base URL
    (without a trailing '/')."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a connection still open (keep-alive) never holds up the end
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
