"""`/health` (for load balancers: no credentials) and `/metrics` (Prometheus text format)."""

from fastapi import APIRouter, Response
from pydantic import BaseModel

from cartwire.api.security import Reader, ServicesDep

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health")
def health(services: ServicesDep, response: Response) -> Health:
    """200 when the store answers; 503 (with the reason) when it does not."""
    problem = services.store_problem()
    if problem is not None:
        response.status_code = 503
        return Health(status="unavailable", database=problem)
    return Health(status="ok", database="ok")


@router.get("/metrics", response_class=Response)
def metrics(_who: Reader, services: ServicesDep) -> Response:
    """Runs by status, records by outcome, and this server's API and token requests per
    instance (send an API key, as with every route but `/health`)."""
    body, content_type = services.metrics()
    return Response(body, media_type=content_type)
