"""`/flows`: every flow with its triggers, its binding (and a form to bind it to instances of
the connectors it reads and writes), its last runs as status pips, its next scheduled run, an
enable switch and a "Run now" button. Runs started here run in the server's process (the run
starter); the person is taken to the run's page to watch it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cartwire.api.security import services
from cartwire.api.ui.pages import allowed, render, viewer
from cartwire.services.access import Permission, Principal

LAST_RUNS = 5  # pips per flow

router = APIRouter()


@router.get("/flows", response_class=HTMLResponse)
def flows(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    flows_, runs = services(request).flows, services(request).runs
    found = flows_.all()
    newest = runs.last_runs([flow.name for flow in found], LAST_RUNS)
    last = {name: list(reversed(those)) for name, those in newest.items()}  # oldest pip first
    upcoming = {flow.name: flows_.next_run(flow.name) for flow in found}
    instances = services(request).instances.all()
    by_connector = {
        connector: [view.name for view in instances if view.connector == connector]
        for connector in {view.connector for view in instances}
    }
    return render(
        request,
        "flows.html",
        principal,
        title="Flows",
        flows=found,
        last=last,
        upcoming=upcoming,
        by_connector=by_connector,
    )


@contextmanager
def _refused_as_409() -> Iterator[None]:
    """A flow that cannot be switched or run: the service's reason, as a 409."""
    from cartwire.services.errors import FlowError, InstanceNotFound, RunBusy

    try:
        yield
    except (FlowError, InstanceNotFound, RunBusy) as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/flows/{name}/enable")
def enable(
    request: Request,
    name: str,
    _who: Annotated[Principal, Depends(allowed(Permission.MANAGE))],
    source: Annotated[str | None, Form()] = None,
    destination: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Enable the flow's saved binding, or bind it to `source` and `destination` (the bind
    form), as `flows enable NAME [--source --destination]` does."""
    with _refused_as_409():
        services(request).flows.enable(name, source, destination)
    return RedirectResponse("/flows", status_code=303)


@router.post("/flows/{name}/disable")
def disable(
    request: Request,
    name: str,
    _who: Annotated[Principal, Depends(allowed(Permission.MANAGE))],
) -> RedirectResponse:
    with _refused_as_409():
        services(request).flows.disable(name)
    return RedirectResponse("/flows", status_code=303)


@router.post("/flows/{name}/run")
def run_now(
    request: Request,
    name: str,
    _who: Annotated[Principal, Depends(allowed(Permission.OPERATE))],
) -> RedirectResponse:
    with _refused_as_409():
        run = services(request).starter.start(name)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)
