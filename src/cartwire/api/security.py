"""Who is asking, and may they: an API key (`Authorization: Bearer …`) or a web UI session
cookie, checked against the role's permissions (`services.access`).

A request carried by the session cookie could have been sent by another site's page, so every
unsafe one must also echo the session's CSRF token (header `X-CSRF-Token`, or the form field
`csrf_token`); a request with an API key cannot be forged that way and needs none.
"""

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from cartwire.api.problems import ApiProblem
from cartwire.services.access import Permission, Principal
from cartwire.services.context import Services

SESSION_COOKIE = "cartwire_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def services(request: Request) -> Services:
    """The app's one `Services` (opened at startup)."""
    found: Services = request.app.state.services
    return found


class Unauthenticated(ApiProblem):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def _form(request: Request) -> FormData | None:
    kind = request.headers.get("content-type", "")
    return await request.form() if kind.startswith(FORM_TYPES) else None


async def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await _form(request)
        field = form.get(CSRF_FIELD) if form is not None else None
        given = field if isinstance(field, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def identify(request: Request) -> Principal | None:
    """The caller, or None when it sent no credentials at all. A wrong key, an expired
    session or a missing CSRF token is refused here, not treated as anonymous."""
    access = services(request).access
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, key = header.partition(" ")
        who = access.authenticate_key(key.strip()) if scheme.lower() == "bearer" else None
        if who is None:
            raise Unauthenticated("the API key is unknown or revoked (header: Bearer <key>)")
        return who
    token = request.cookies.get(SESSION_COOKIE)
    if token is None:
        return None
    found = access.session(token)
    if found is None:
        raise Unauthenticated("the session has expired; log in again")
    who, csrf = found
    request.state.csrf_token = csrf
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, csrf):
        raise ApiProblem(403, "missing or wrong CSRF token; reload the page and try again")
    return who


async def authenticated(request: Request) -> Principal:
    who = await identify(request)
    if who is None:
        raise Unauthenticated("authentication required: send Authorization: Bearer <api key>")
    return who


def require(
    permission: Permission,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only principals whose role has `permission`."""

    async def check(who: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not who.can(permission):
            raise ApiProblem(
                403, f"the role {who.role!r} may not do this (it needs the {permission} permission)"
            )
        return who

    return check


Reader = Annotated[Principal, Depends(require(Permission.READ))]
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE))]
Admin = Annotated[Principal, Depends(require(Permission.ADMINISTER))]
ServicesDep = Annotated[Services, Depends(services)]
