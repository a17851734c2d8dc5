"""`/runs`: run history filtered by the query string (so a filtered view is a link to share),
and `/runs/{id}`: one run's status, counts, logs and failed records, with stop, resume and
retry. While a run is queued or running its page follows it over server-sent events: the
counts fragment is sent again every `POLL` seconds, and the stream ends once the run has."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sse_starlette import EventSourceResponse

from cartwire.api.security import services
from cartwire.api.ui.pages import allowed, render, templates, viewer
from cartwire.services.access import Permission, Principal
from cartwire.services.errors import FlowError, RunBusy, RunNotFound
from cartwire.services.runs import MOST_LINES, STATUSES, QueryRefused, RunFilter, RunView

LIVE = ("queued", "running")
RESUMABLE = ("stopped", "interrupted", "failed")
PAGE = 50  # runs per page of the history
LOG_PAGE = 100  # log lines per page of a run's log
POLL = 1.0  # seconds between two progress updates of a live run
TRIGGERS = ("manual", "api", "payload", "schedule", "webhook")  # offered; any other is accepted

router = APIRouter()


def _moment(field: str, given: str) -> datetime | None:
    """A date (`2026-12-01`, as a date input sends it) or a date and time; one without a time
    zone is UTC, the zone the history shows."""
    if not given:
        return None
    try:
        moment = datetime.fromisoformat(given)
    except ValueError:
        raise QueryRefused(
            field, f"expected a date (YYYY-MM-DD) or a date and time, got {given!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class HistoryQuery:
    """The history's filters as the query string carries them, so a filtered view is a link."""

    flow: str = ""
    instance: str = ""
    status: str = ""
    trigger: str = ""
    since: str = ""
    until: str = ""

    def filter(self) -> RunFilter:
        try:
            return RunFilter(
                flow=self.flow or None,
                instance=self.instance or None,
                status=self.status or None,
                trigger=self.trigger or None,
                since=_moment("since", self.since),
                until=_moment("until", self.until),
            )
        except ValidationError as exc:  # the status validator's QueryRefused, wrapped
            error = exc.errors()[0]
            raise QueryRefused(".".join(map(str, error["loc"])), error["msg"]) from None

    def link(self, offset: int) -> str:
        given = {key: value for key, value in asdict(self).items() if value}
        return "/runs?" + urlencode({**given, "offset": offset} if offset else given)


@router.get("/runs", response_class=HTMLResponse)
def history(
    request: Request,
    principal: Annotated[Principal, Depends(viewer)],
    query: Annotated[HistoryQuery, Depends()],
    offset: int = 0,
) -> HTMLResponse:
    service = services(request)
    refused, page = None, None
    try:
        page = service.runs.find(query.filter(), limit=PAGE, offset=max(offset, 0))
    except QueryRefused as exc:
        refused = exc
    return render(
        request,
        "runs.html",
        principal,
        status_code=422 if refused else 200,
        title="Runs",
        page=page,
        refused=refused,
        query=query,
        newer=query.link(max(offset - PAGE, 0)) if page and page.offset else None,
        older=query.link(offset + PAGE) if page and page.offset + PAGE < page.total else None,
        flows=[summary.name for summary in service.flows.all()],
        instances=[view.name for view in service.instances.all()],
        statuses=STATUSES,
        triggers=TRIGGERS,
    )


def _run(request: Request, run_id: int) -> RunView:
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
    before: int | None = None,
    lines: Annotated[int, Query(ge=1, le=MOST_LINES)] = LOG_PAGE,
) -> HTMLResponse:
    """The log is paged from its end, as `runs logs` pages it: `?before=N` the `lines` lines
    before line N; `?errors=true` only its error lines."""
    run = _run(request, run_id)
    runs = services(request).runs
    logs = runs.log_page(run_id, errors_only=errors, before=before, limit=lines)
    here = {
        **({"errors": "true"} if errors else {}),
        **({"lines": str(lines)} if lines != LOG_PAGE else {}),
    }
    return render(
        request,
        "run.html",
        principal,
        title=f"Run {run.id}",
        run=run,
        live=run.status in LIVE,
        resumable=run.status in RESUMABLE,
        logs=logs,
        older=f"/runs/{run_id}?{urlencode({**here, 'before': logs.older})}#log"
        if logs.older
        else None,
        newest=f"/runs/{run_id}?{urlencode(here)}#log" if before else None,
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
