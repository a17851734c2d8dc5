"""`/instances`: the saved instances with a credential test each, and the add-instance wizard.

The wizard asks for a connector, then shows that connector's fields in its file's order, with
their labels, defaults and help. Adding goes through the instance service, which checks every
field and tests the credentials before saving: on a refusal the form comes back with the reason
beside the field it concerns and nothing saved. Secret values are never written back into a
page: after a refusal a person types the secret again.
"""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cartwire.api.security import services
from cartwire.api.ui.pages import allowed, render, viewer
from cartwire.services import connectors as catalogue
from cartwire.services.access import Permission, Principal
from cartwire.services.instances import RATE_UNITS, AuthMethod, Settings

FIELD_PREFIX = "field."  # credential fields' form names, apart from the wizard's own fields

router = APIRouter()


@dataclass
class Draft:
    """What a person typed into the wizard, secrets left out once refused, and what was wrong:
    `errors` by field key (a credential field's, or name, timezone, rate_limit_*)."""

    connector: str
    method: AuthMethod
    name: str = ""
    settings: dict[str, str] = field(default_factory=lambda: {"timezone": "UTC"})
    values: dict[str, str] = field(default_factory=dict)  # credential fields by key
    errors: dict[str, str] = field(default_factory=dict)
    failure: str | None = None

    def given(self) -> dict[str, str]:
        """The credential fields filled in (an empty one falls back to its default)."""
        return {key: value for key, value in self.values.items() if value}

    def forget_secrets(self) -> None:
        secret = {f.key for f in self.method.fields if f.secret}
        self.values = {k: v for k, v in self.values.items() if k not in secret}


@router.get("/instances", response_class=HTMLResponse)
def instances(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    found = services(request).instances.all()
    added = request.query_params.get("added")
    return render(
        request, "instances.html", principal, title="Instances", instances=found, added=added
    )


@router.post("/instances/{name}/test", response_class=HTMLResponse)
def test(
    request: Request,
    name: str,
    principal: Annotated[Principal, Depends(allowed(Permission.OPERATE))],
) -> HTMLResponse:
    """The fragment htmx swaps in: the status and why."""
    from cartwire.services.errors import InstanceNotFound

    try:
        result = services(request).instances.test(name)
    except InstanceNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return render(request, "_test_result.html", principal, result=result)


def _method(connector: str, key: str | None) -> AuthMethod:
    from cartwire.services.errors import ConnectorError

    try:
        return catalogue.get(connector).auth_method(key or None)
    except (ConnectorError, KeyError) as exc:
        raise HTTPException(404, str(exc)) from None


def _wizard(
    request: Request, principal: Principal, draft: Draft | None, status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "instance_new.html",
        principal,
        status,
        title="Add an instance",
        connectors=catalogue.list_connectors(),
        draft=draft,
        rate_units=RATE_UNITS,
    )


@router.get("/instances/new", response_class=HTMLResponse)
def new(
    request: Request,
    principal: Annotated[Principal, Depends(allowed(Permission.MANAGE))],
    connector: str = "",
    auth_method: str = "",
) -> HTMLResponse:
    """Without a connector: the choice of one; with it: its form, defaults filled in."""
    if not connector:
        return _wizard(request, principal, None)
    method = _method(connector, auth_method)
    defaults = {f.key: f.default for f in method.fields if f.default is not None}
    return _wizard(request, principal, Draft(connector, method, values=defaults))


def _settings(draft: Draft) -> Settings | None:
    """The settings typed, or None with the reason in `draft.errors`."""
    amount = draft.settings.get("rate_limit_amount", "")
    if amount and not amount.isdigit():
        draft.errors["rate_limit_amount"] = f"expected a whole number >= 1 (got {amount!r})"
        return None
    return Settings(
        timezone=draft.settings.get("timezone") or "UTC",
        rate_limit_amount=int(amount) if amount else None,
        rate_limit_unit=draft.settings.get("rate_limit_unit") or None,
    )


def _add(request: Request, principal: Principal, draft: Draft) -> Response:
    from cartwire.services.errors import CredentialsRejected, InstanceExists, InvalidFields

    settings = _settings(draft)
    try:
        if settings is not None:
            services(request).instances.add(
                draft.connector, draft.name, draft.given(), settings, auth_method=draft.method.key
            )
            return RedirectResponse(f"/instances?added={draft.name}", status_code=303)
    except InvalidFields as exc:
        draft.errors = {problem.key: problem.message for problem in exc.problems}
    except InstanceExists as exc:
        draft.errors = {"name": f"{exc}: choose another name"}
    except CredentialsRejected as exc:
        draft.failure = exc.result.reason
    draft.forget_secrets()
    return _wizard(request, principal, draft, status=422)


SETTINGS = ("timezone", "rate_limit_amount", "rate_limit_unit")


@router.post("/instances/new")
async def add(
    request: Request, principal: Annotated[Principal, Depends(allowed(Permission.MANAGE))]
) -> Response:
    form = {k: v.strip() for k, v in (await request.form()).items() if isinstance(v, str)}
    method = _method(form.get("connector", ""), form.get("auth_method"))
    draft = Draft(
        form.get("connector", ""),
        method,
        name=form.get("name", ""),
        settings={key: form.get(key, "") for key in SETTINGS},
        values={f.key: form.get(FIELD_PREFIX + f.key, "") for f in method.fields},
    )
    return await run_in_threadpool(_add, request, principal, draft)
