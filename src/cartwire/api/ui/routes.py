"""Every page of the web UI, gathered into the one router the app mounts."""

from fastapi import APIRouter

from cartwire.api.ui import access, connectors, dashboard, flows, instances, login, runs

PARTS = (login, dashboard, connectors, instances, flows, runs, access)

router = APIRouter(include_in_schema=False)
for part in PARTS:
    router.include_router(part.router)
