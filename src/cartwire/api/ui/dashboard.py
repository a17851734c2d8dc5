"""`/`: the last 24 hours at a glance: runs that succeeded and failed, records moved, and the
flows whose last finished run failed, all counted by the run service in the store (so every
process's runs count, not a page of recent ones)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cartwire.api.security import services
from cartwire.api.ui.pages import render, viewer
from cartwire.services.access import Principal

WINDOW = timedelta(hours=24)

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    runs = services(request).runs
    board = runs.dashboard(datetime.now(UTC) - WINDOW)
    latest = runs.last_runs(board.failing_flows, 1)
    return render(
        request,
        "dashboard.html",
        principal,
        title="Dashboard",
        board=board,
        others=sum(board.runs.values()) - board.runs["succeeded"] - board.runs["failed"],
        failing=[(flow, latest[flow][0]) for flow in board.failing_flows if latest[flow]],
    )
