"""Assembly of the Commerce Layer sandbox as one ASGI application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin
from .api import CoreApi
from .auth import token_endpoint
from .gateway import Gateway
from .state import Sandbox, Settings

_API_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]


def create_app(settings: Settings) -> Starlette:
    sandbox = Sandbox(settings)

    async def token(request: Request) -> Response:
        return await token_endpoint(sandbox, request)

    routes = [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/api/{rest:path}", CoreApi(sandbox).handle, methods=_API_METHODS),
        *admin.routes(sandbox),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Gateway, faults=sandbox.faults, counters=sandbox.counters, holds=sandbox.holds
            ),
        ],
    )
    app.state.sandbox = sandbox
    return app
