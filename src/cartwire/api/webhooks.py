"""The webhook receiver as an ASGI app: `POST /webhooks/{flow}` (and `GET /healthz`).

Only the HTTP around the service layer's `WebhookIntake`, which makes every decision:
reading the raw body (the signature is over its exact bytes, so it is never re-serialized),
a size cap, and running the receiver (which touches the database) off the event loop.
On shutdown the webhook runs still going get `grace` seconds to finish their records; on
startup the webhook runs a dead server left unfinished are resumed.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cartwire.services.context import Services
from cartwire.services.webhooks import WebhookIntake

if TYPE_CHECKING:
    from cartwire.services.context import Store

# Commerce Layer documents are small; this only keeps a stray upload from filling memory.
MAX_BODY = 5 * 1024 * 1024


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _TooLarge
    return bytes(body)


def create_app(store: "Store | None" = None, *, grace: float = 30.0) -> Starlette:
    """The app; it opens the default store at startup unless given one."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with Services(store) as service:
            app.state.intake = intake = WebhookIntake(service.store)
            await run_in_threadpool(intake.start)
            try:
                yield
            finally:
                await run_in_threadpool(intake.stop, grace)

    async def receive(request: Request) -> JSONResponse:
        try:
            body = await _body(request)
        except _TooLarge:
            return JSONResponse({"error": f"body larger than {MAX_BODY} bytes"}, 413)
        intake: WebhookIntake = request.app.state.intake
        reply = await run_in_threadpool(
            intake.receive,
            request.path_params["flow"],
            body,
            request.headers,
            request.query_params,
        )
        return JSONResponse(reply.document, reply.status)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        """Routing errors (no such path, wrong method) in the same JSON shape as the rest."""
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    return Starlette(
        routes=[
            Route("/webhooks/{flow}", receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
