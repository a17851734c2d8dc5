"""The one HTTP app `cartwire serve` runs: the `/api/v1` routes, the web UI, the webhook
receiver, `/health` and `/metrics`, over one `Services`.

The app holds the store for its lifetime; the runs it starts (run now, resume, retry, webhook
deliveries) run in threads of this process and, on shutdown, get `grace` seconds in all to
finish their page before the process goes (a run cut off is left resumable). On startup the
webhook runs a dead server left unfinished are resumed.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from cartwire import __version__
from cartwire.api import guards, problems, ui, webhooks
from cartwire.api.problems import Problem
from cartwire.api.routes import access, connectors, docs, flows, instances, lookups, runs, system
from cartwire.services.context import Services
from cartwire.services.webhooks import WebhookIntake

if TYPE_CHECKING:
    from cartwire.services.context import Store

_ERRORS = {
    status: {"model": Problem, "content": {problems.MEDIA_TYPE: {}}}
    for status in (401, 403, 404, 409, 422)
}


def _api() -> APIRouter:
    api = APIRouter(prefix="/api/v1", responses=_ERRORS)  # type: ignore[arg-type]
    for module in (connectors, instances, flows, runs, lookups, access):
        api.include_router(module.router)
    return api


def create_app(store: "Store | None" = None, *, grace: float = 30.0) -> FastAPI:
    """The app; it opens the default store at startup unless given one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with Services(store) as services:
            app.state.services = services
            app.state.intake = intake = WebhookIntake(services.store)
            await run_in_threadpool(intake.start)
            try:
                yield
            finally:  # one deadline for both: `grace` in all, not `grace` each
                deadline = time.monotonic() + grace
                await run_in_threadpool(services.starter.join, grace)
                await run_in_threadpool(intake.stop, max(0.0, deadline - time.monotonic()))

    app = FastAPI(
        title="cartwire",
        version=__version__,
        description="Connector instances, flows and runs of a cartwire installation.",
        lifespan=lifespan,
        openapi_url=None,  # served by `routes.docs`, behind authentication
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    app.include_router(_api())
    app.include_router(system.router)
    app.include_router(webhooks.router)
    app.include_router(docs.router)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(packages=[("cartwire.api", "static")]), name="static")
    app.add_middleware(guards.BodyLimit)
    app.add_middleware(guards.CatchAll)
    return app
