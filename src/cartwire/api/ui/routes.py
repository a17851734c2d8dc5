"""Every page of the web UI, gathered into the one router the app mounts."""

from fastapi import APIRouter

from cartwire.api.ui import connectors, dashboard, flows, instances, login, runs

router = APIRouter(include_in_schema=False)
for part in (login, dashboard, connectors, instances, flows, runs):
    router.include_router(part.router)
