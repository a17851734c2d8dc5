"""What every page shares: the templates, who is looking, and what they may do.

A page is for a signed-in person: without a session the browser is sent to the login page
with `next` pointing back, so a shared link still lands where it meant to after logging in.
What a role may do is asked of the principal (`Principal.can`) alone: a page hides the
buttons of actions the viewer may not take, and the action itself answers 403 all the same.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cartwire.api.problems import ApiProblem
from cartwire.api.security import identify
from cartwire.services.access import Permission, Principal

# The pip colour of each status word (the stylesheet's .pip classes); any other is grey.
PIPS = {
    "succeeded": "ok",
    "operational": "ok",
    "partially succeeded": "partial",
    "failed": "failed",
    "failed authentication": "failed",
    "unreachable": "failed",
    "unexpected response": "failed",
    "queued": "running",
    "running": "running",
}

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["pip_kind"] = lambda status: PIPS.get(status, "")

NAV = (
    ("/", "Dashboard"),
    ("/connectors", "Connectors"),
    ("/instances", "Instances"),
    ("/flows", "Flows"),
    ("/runs", "Runs"),
)


async def signed_in(request: Request) -> Principal | None:
    """Who is signed in; None also for a session that expired or was ended (a page answers
    that with the way back in, not with an API's 401). A missing CSRF token is still a 403."""
    try:
        return await identify(request)
    except ApiProblem as exc:
        if exc.status != 401:
            raise
        return None


async def viewer(request: Request) -> Principal:
    """The signed-in principal, or a 303 to /login?next=<this page>."""
    principal = await signed_in(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, headers={"Location": f"/login?next={quote(target, safe='')}"})
    return principal


def allowed(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the viewer, or 403 when their role lacks `permission`."""

    async def check(request: Request) -> Principal:
        principal = await viewer(request)
        if not principal.can(permission):
            raise HTTPException(403, f"your role ({principal.role}) may not {permission} here")
        return principal

    return check


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`template` with what the layout needs: the viewer, their CSRF token, the nav bar."""
    section = "/" + request.url.path.strip("/").split("/")[0]
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "csrf_token": getattr(request.state, "csrf_token", None),
            "nav": NAV,
            "current": section if section != "/" else "/",
            "can_manage": principal is not None and principal.can(Permission.MANAGE),
            "can_operate": principal is not None and principal.can(Permission.OPERATE),
            "can_administer": principal is not None and principal.can(Permission.ADMINISTER),
            **context,
        },
        status_code=status_code,
    )
