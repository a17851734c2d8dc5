"""`/`: the last 24 hours at a glance: runs that succeeded and failed, records moved, and the
flows whose latest run failed (computed from the run history the run service hands out)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cartwire.api.security import services
from cartwire.api.ui.pages import render, viewer
from cartwire.services.access import Principal
from cartwire.services.runs import RunView

WINDOW = timedelta(hours=24)
# The history read for the dashboard: enough for a busy day; a run beyond it is not counted.
HISTORY = 1000
MOVED = ("created", "updated")  # records written to the destination

router = APIRouter()


@dataclass
class Summary:
    by_status: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    failing: list[RunView] = field(default_factory=list)  # each flow's latest run, failed

    @classmethod
    def of(cls, runs: list[RunView], now: datetime) -> "Summary":
        """`runs` newest first, as the run service lists them."""
        summary = cls()
        latest: dict[str, RunView] = {}
        for run in runs:
            latest.setdefault(run.flow, run)
            if now - run.created_at <= WINDOW:
                summary.by_status[run.status] += 1
                summary.moved += sum(run.counts.get(key, 0) for key in MOVED)
        summary.failing = [run for run in latest.values() if run.status == "failed"]
        return summary


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    runs = services(request).runs.all(limit=HISTORY)
    summary = Summary.of(runs, datetime.now(UTC))
    return render(request, "dashboard.html", principal, title="Dashboard", summary=summary)
