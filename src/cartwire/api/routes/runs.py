"""`/api/v1/runs`: run history with filters, one run's counts, steps, cursor, logs and failed
records, and stopping, resuming and retrying it."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from cartwire.api.security import Operator, Reader, ServicesDep
from cartwire.services.runs import FailureView, LogPage, RunFilter, RunPage, RunView

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("")
def list_runs(
    _who: Reader,
    services: ServicesDep,
    flow: str | None = None,
    instance: Annotated[str | None, Query(description="Source or destination")] = None,
    status: str | None = None,
    trigger: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RunPage:
    """Newest first; `since` and `until` (of when a run was created) need a time zone."""
    try:
        found = RunFilter(
            flow=flow, instance=instance, status=status, trigger=trigger, since=since, until=until
        )
    except ValidationError as exc:  # the query's values, so the client's to fix: 422
        raise RequestValidationError(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        ) from None
    return services.runs.find(found, limit=limit, offset=offset)


@router.get("/{run_id}")
def show_run(run_id: int, _who: Reader, services: ServicesDep) -> RunView:
    return services.runs.get(run_id)


@router.get("/{run_id}/logs")
def run_logs(
    run_id: int,
    _who: Reader,
    services: ServicesDep,
    level: Annotated[str | None, Query(pattern="^(debug|info|warning|error)$")] = None,
    errors_only: bool = False,
    before: Annotated[int | None, Query(ge=1, description="`older` of the page after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LogPage:
    """The newest lines first page (from the tail), oldest-first within a page."""
    return services.runs.log_page(
        run_id, level=level, errors_only=errors_only, before=before, limit=limit
    )


@router.get("/{run_id}/failures")
def run_failures(run_id: int, _who: Reader, services: ServicesDep) -> list[FailureView]:
    services.runs.get(run_id)  # 404 for an unknown run rather than an empty list
    return services.runs.failures(run_id)


@router.post("/{run_id}/stop", status_code=202)
def stop_run(run_id: int, _who: Operator, services: ServicesDep) -> RunView:
    """Ask the run to stop after its current page (it can be resumed)."""
    return services.runs.stop(run_id)


@router.post("/{run_id}/resume", status_code=202)
def resume_run(run_id: int, _who: Operator, services: ServicesDep) -> RunView:
    return services.starter.resume(run_id)


@router.post("/{run_id}/retry", status_code=202)
def retry_run(run_id: int, _who: Operator, services: ServicesDep) -> RunView:
    """A new run of only the records this run failed on."""
    return services.starter.retry(run_id)
