"""Every page of the web UI, gathered into the one router the app mounts."""

from fastapi import APIRouter

from cartwire.api.ui import connectors, dashboard, instances, login

router = APIRouter(include_in_schema=False)
for part in (login, dashboard, connectors, instances):
    router.include_router(part.router)
