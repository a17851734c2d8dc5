"""The admin API shared by both sandboxes (docs/sandbox.md), under `/_sandbox/`."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .holds import UnknownHeld
from .ratelimit import configure, profile_name
from .state import Sandbox
from .writes import LoadError, load


@contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Pause the cyclic GC while a bulk load allocates millions of objects, then freeze them.

    Otherwise each full collection rescans the whole growing store (a 300,000-record load
    takes about twice as long), and later ones keep rescanning it although records live until
    the next reset and never form cycles.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw else {}


def routes(sandbox: Sandbox) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "platform": "commercelayer"})

    async def counters(request: Request) -> Response:
        if request.method == "DELETE":
            sandbox.counters.clear()
            return Response(status_code=204)
        return JSONResponse(sandbox.counters.describe())

    async def arrivals(request: Request) -> Response:
        return JSONResponse({"arrivals": list(sandbox.counters.arrivals)})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            sandbox.faults.clear()
            return Response(status_code=204)
        if request.method == "GET":
            return JSONResponse(sandbox.faults.describe())
        try:
            fault = sandbox.faults.arm(await _body(request))
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse({"id": fault.id}, status_code=201)

    async def held(request: Request) -> Response:
        return JSONResponse(sandbox.holds.describe())

    async def release(request: Request) -> Response:
        body = await _body(request)
        held_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(body, dict) or set(body) - {"id"} or not isinstance(held_id, str | None):
            return _bad('expected {} (release all) or {"id": "<held request id>"}')
        try:
            released = sandbox.holds.release(held_id)
        except UnknownHeld:
            return JSONResponse({"error": f"no request {held_id} is held"}, status_code=404)
        return JSONResponse({"released": released})

    async def reset(request: Request) -> Response:
        await sandbox.reset()
        return Response(status_code=204)

    def describe_config() -> dict[str, Any]:
        limits = sandbox.config.limits
        return {
            "token_lifetime": sandbox.config.token_lifetime,
            "rate_limits": {"profile": profile_name(limits), **limits.as_dict()},
        }

    async def config(request: Request) -> Response:
        if request.method == "PATCH":
            try:
                body = await _body(request)
                if not isinstance(body, dict) or set(body) - {"token_lifetime", "rate_limits"}:
                    raise ValueError("expected an object with token_lifetime and/or rate_limits")
                lifetime = body.get("token_lifetime", sandbox.config.token_lifetime)
                if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
                    raise ValueError("token_lifetime must be a positive integer (seconds)")
                limits = sandbox.config.limits
                if "rate_limits" in body:
                    limits = configure(limits, body["rate_limits"])
            except ValueError as exc:
                return _bad(str(exc))
            sandbox.config.token_lifetime = lifetime
            if limits != sandbox.config.limits:
                sandbox.config.limits = limits
                sandbox.limiter.reset(limits)
        return JSONResponse(describe_config())

    async def bulk_load(request: Request) -> Response:
        raw = await request.body()
        with _bulk_allocation():
            try:
                body = json.loads(raw) if raw else {}
            except ValueError as exc:
                return _bad(f"invalid JSON: {exc}")
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                return _bad('expected {"type": "...", "records": [...], "timestamp"?: "..."}')
            try:
                ids = load(
                    sandbox.store, str(body.get("type")), body["records"], body.get("timestamp")
                )
            except LoadError as exc:
                return _bad(str(exc))
        return JSONResponse({"ids": ids})

    return [
        Route("/_sandbox/health", health, methods=["GET"]),
        Route("/_sandbox/counters", counters, methods=["GET", "DELETE"]),
        Route("/_sandbox/arrivals", arrivals, methods=["GET"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/held", held, methods=["GET"]),
        Route("/_sandbox/release", release, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/config", config, methods=["GET", "PATCH"]),
        Route("/_sandbox/load", bulk_load, methods=["POST"]),
    ]
