"""`/runs`: run history filtered by the query string (so a filtered view is a link to share),
and `/runs/{id}`: one run's status, counts, logs and failed records, with stop, resume and
retry. While a run is queued or running its page follows it over server-sent events: the
counts fragment is sent again every `POLL` seconds, and the stream ends once the run has."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sse_starlette import EventSourceResponse

from cartwire.api.security import services
from cartwire.api.ui.pages import allowed, render, templates, viewer
from cartwire.services.access import Permission, Principal
from cartwire.services.runs import RunView

STATUSES = (
    "queued",
    "running",
    "succeeded",
    "partially succeeded",
    "failed",
    "stopped",
    "interrupted",
)
LIVE = ("queued", "running")
RESUMABLE = ("stopped", "interrupted", "failed")
HISTORY = 200  # runs listed at most (newest first)
POLL = 1.0  # seconds between two progress updates of a live run

router = APIRouter()


@router.get("/runs", response_class=HTMLResponse)
def history(
    request: Request,
    principal: Annotated[Principal, Depends(viewer)],
    flow: str = "",
    status: str = "",
) -> HTMLResponse:
    found = services(request).runs.all(flow or None, HISTORY)
    if status:
        found = [run for run in found if run.status == status]
    flows = [summary.name for summary in services(request).flows.all()]
    return render(
        request,
        "runs.html",
        principal,
        title="Runs",
        runs=found,
        flows=flows,
        statuses=STATUSES,
        flow=flow,
        status=status,
    )


def _run(request: Request, run_id: int) -> RunView:
    from cartwire.services.errors import RunNotFound

    try:
        return services(request).runs.get(run_id)
    except RunNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def detail(
    request: Request,
    run_id: int,
    principal: Annotated[Principal, Depends(viewer)],
    errors: bool = False,
) -> HTMLResponse:
    """`?errors=true`: only the log's error lines."""
    run = _run(request, run_id)
    runs = services(request).runs
    logs = runs.logs(run_id)
    return render(
        request,
        "run.html",
        principal,
        title=f"Run {run.id}",
        run=run,
        live=run.status in LIVE,
        resumable=run.status in RESUMABLE,
        logs=[line for line in logs if line.level == "error"] if errors else logs,
        errors_only=errors,
        failures=runs.failures(run_id),
    )


def _counts(run: RunView) -> str:
    return templates.get_template("_run_counts.html").render(run=run)


@router.get("/runs/{run_id}/events")
async def events(
    request: Request, run_id: int, _who: Annotated[Principal, Depends(viewer)]
) -> EventSourceResponse:
    """`counts` with the fragment while the run lives, then one `done` (the page closes the
    stream on it)."""
    await run_in_threadpool(_run, request, run_id)

    async def stream() -> AsyncIterator[dict[str, str]]:
        while not await request.is_disconnected():
            run = await run_in_threadpool(services(request).runs.get, run_id)
            yield {"event": "counts", "data": _counts(run)}
            if run.status not in LIVE:
                yield {"event": "done", "data": run.status}
                return
            await asyncio.sleep(POLL)

    return EventSourceResponse(stream())


def _act(request: Request, run_id: int, action: str) -> RedirectResponse:
    from cartwire.services.errors import FlowError, RunBusy

    _run(request, run_id)
    try:
        if action == "stop":
            run = services(request).runs.stop(run_id)
        elif action == "resume":
            run = services(request).starter.resume(run_id)
        else:
            run = services(request).starter.retry(run_id)
    except (FlowError, RunBusy, ValueError) as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@router.post("/runs/{run_id}/stop")
def stop(
    request: Request, run_id: int, _who: Annotated[Principal, Depends(allowed(Permission.OPERATE))]
) -> RedirectResponse:
    return _act(request, run_id, "stop")


@router.post("/runs/{run_id}/resume")
def resume(
    request: Request, run_id: int, _who: Annotated[Principal, Depends(allowed(Permission.OPERATE))]
) -> RedirectResponse:
    return _act(request, run_id, "resume")


@router.post("/runs/{run_id}/retry")
def retry(
    request: Request, run_id: int, _who: Annotated[Principal, Depends(allowed(Permission.OPERATE))]
) -> RedirectResponse:
    return _act(request, run_id, "retry")
