"""ASGI middleware that holds for every route: a cap on request bodies, and a bare 500 problem
for any error no handler knew.

Both are plain ASGI rather than `BaseHTTPMiddleware`, which buffers responses and so would hold
back the run pages' server-sent events.
"""

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Flow files, lookup tables and Commerce Layer documents are small; this keeps a stray upload
# from filling memory.
MAX_BODY = 5 * 1024 * 1024


def _problem(status: int, title: str, detail: str) -> tuple[Message, Message]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/problem+json")],
    }
    return start, {"type": "http.response.body", "body": body.encode()}


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over `limit` bytes, declared or streamed, before a route reads it all."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        for message in _problem(413, "Content Too Large", f"body larger than {self.limit} bytes"):
            await send(message)


class CatchAll:
    """An error no exception handler knew: logged here (through the redacting log setup), and
    answered with a body that says nothing about it, since a traceback can quote a secret."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            log.error("%s %s failed: %s", scope["method"], scope["path"], type(exc).__name__)
            log.debug("the failure", exc_info=exc)
            if started:
                return
            for message in _problem(
                500, "Internal Server Error", "internal error; the server log has the details"
            ):
                await send(message)
