"""`/api/v1/flows`: the flow files (prebuilt and the user's own), validating and saving them,
their bindings, and starting a run now (with an optional payload of records)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cartwire.api.security import Manager, Operator, Reader, ServicesDep
from cartwire.services.flows import BindingView, FlowDetail, FlowSummary
from cartwire.services.runs import RunView
from cartwire.services.validation import FlowValidation

router = APIRouter(prefix="/flows", tags=["flows"])


class FlowText(BaseModel):
    text: str = Field(description="The flow file (YAML), as `flows validate` reads it")


class NamedFlowText(FlowText):
    name: str


class BindingBody(BaseModel):
    source: str
    destination: str
    enabled: bool = True


class EnableBody(BaseModel):
    """Instances to bind; omitted, the flow's saved binding is enabled again."""

    source: str | None = None
    destination: str | None = None


class RunRequest(BaseModel):
    source: str | None = Field(default=None, description="Default: the flow's binding")
    destination: str | None = None
    full: bool = False
    dry_run: bool = False
    limit: int | None = Field(
        default=None, ge=1, description="Read at most this many source records"
    )
    records: list[dict[str, Any]] | None = Field(
        default=None, description="Run over these records instead of reading the source (a payload)"
    )


class FlowDocument(BaseModel):
    """A flow as `flows show --json` shows it (`flow`: the file as cartwire read it), and the
    file's text as written."""

    origin: str
    text: str
    flow: dict[str, Any]

    @classmethod
    def of(cls, detail: FlowDetail) -> "FlowDocument":
        flow = detail.flow.model_dump(mode="json")
        return cls(origin=detail.origin, text=detail.text, flow=flow)


class FlowOverview(FlowSummary):
    next_run: datetime | None


@router.get("")
def list_flows(_who: Reader, services: ServicesDep) -> list[FlowOverview]:
    flows = services.flows
    return [
        FlowOverview(**summary.model_dump(), next_run=flows.next_run(summary.name))
        for summary in flows.all()
    ]


@router.post("/validate")
def validate_flow(body: FlowText, _who: Reader, services: ServicesDep) -> FlowValidation:
    """Every problem of the file, with its place in the file; 200 whether valid or not."""
    return services.flows.validate_text(body.text)


@router.post("", status_code=201)
def create_flow(body: NamedFlowText, _who: Manager, services: ServicesDep) -> FlowDocument:
    """A new user flow; 409 if one of that name exists (PUT replaces)."""
    return FlowDocument.of(services.flows.save(body.name, body.text))


@router.get("/{name}")
def show_flow(name: str, _who: Reader, services: ServicesDep) -> FlowDocument:
    return FlowDocument.of(services.flows.get_by_name(name))


@router.put("/{name}")
def update_flow(name: str, body: FlowText, _who: Manager, services: ServicesDep) -> FlowDocument:
    """Create or replace the user flow `name` (validated first; nothing saved if invalid)."""
    return FlowDocument.of(services.flows.save(name, body.text, replace=True))


@router.delete("/{name}", status_code=204)
def delete_flow(name: str, _who: Manager, services: ServicesDep) -> Response:
    services.flows.delete(name)
    return Response(status_code=204)


@router.put("/{name}/binding")
def bind_flow(name: str, body: BindingBody, _who: Manager, services: ServicesDep) -> BindingView:
    """The instances the flow runs between by default."""
    bound = services.flows.enable(name, body.source, body.destination)
    return bound if body.enabled else services.flows.disable(name)


@router.post("/{name}/enable")
def enable_flow(
    name: str, _who: Manager, services: ServicesDep, body: EnableBody | None = None
) -> BindingView:
    given = body or EnableBody()
    return services.flows.enable(name, given.source, given.destination)


@router.post("/{name}/disable")
def disable_flow(name: str, _who: Manager, services: ServicesDep) -> BindingView:
    return services.flows.disable(name)


@router.post("/{name}/runs", status_code=202)
def run_flow(
    name: str, _who: Operator, services: ServicesDep, body: RunRequest | None = None
) -> RunView:
    """Start a run now; answers once it is recorded (follow it at `/api/v1/runs/{id}`)."""
    given = body or RunRequest()
    return services.starter.start(
        name,
        given.source,
        given.destination,
        full=given.full,
        dry_run=given.dry_run,
        limit=given.limit,
        records=given.records,
        trigger="api" if given.records is None else "payload",
    )
