"""`/api/v1/runs`: run history with filters, one run's counts, steps, cursor, logs and failed
records, and stopping, resuming and retrying it."""

from typing import Annotated

from fastapi import APIRouter, Query

from cartwire.api.security import Operator, Reader, ServicesDep
from cartwire.services.runs import FailureView, LogLine, RunView

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("")
def list_runs(
    _who: Reader,
    services: ServicesDep,
    flow: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunView]:
    """Newest first."""
    return services.runs.all(flow, limit)


@router.get("/{run_id}")
def show_run(run_id: int, _who: Reader, services: ServicesDep) -> RunView:
    return services.runs.get(run_id)


@router.get("/{run_id}/logs")
def run_logs(run_id: int, _who: Reader, services: ServicesDep) -> list[LogLine]:
    services.runs.get(run_id)
    return services.runs.logs(run_id)


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
