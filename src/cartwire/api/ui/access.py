"""`/access`, for admins: the users who sign in here and the API keys scripts use, with forms
to add and remove users and to create and revoke keys, as `cartwire users` and `cartwire
apikeys` do. A new key is shown once, on the page its creation answers with (not after a
redirect, which would have to carry it); a password never comes back in a page."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cartwire.api.security import services
from cartwire.api.ui.pages import allowed, render
from cartwire.services.access import ROLES, AccessRefused, CreatedKey, Permission, Principal

router = APIRouter()
Admin = Annotated[Principal, Depends(allowed(Permission.ADMINISTER))]


def _page(
    request: Request,
    principal: Principal,
    *,
    created: CreatedKey | None = None,
    refused: AccessRefused | None = None,
) -> HTMLResponse:
    access = services(request).access
    return render(
        request,
        "access.html",
        principal,
        status_code=422 if refused else 201 if created else 200,
        title="Access",
        users=access.users(),
        keys=access.keys(),
        roles=ROLES,
        created=created,
        refused=refused,
    )


def _back_after(request: Request, principal: Admin, change: Callable[[], object]) -> Response:
    """Make the change and go back to the page; a refusal is the page again, saying why."""
    try:
        change()
    except AccessRefused as exc:
        return _page(request, principal, refused=exc)
    return RedirectResponse("/access", status_code=303)


@router.get("/access", response_class=HTMLResponse)
def access(request: Request, principal: Admin) -> HTMLResponse:
    return _page(request, principal)


@router.post("/access/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    principal: Admin,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    access = services(request).access
    return _back_after(request, principal, lambda: access.add_user(name, role, password))


@router.post("/access/users/{name}/remove", response_class=HTMLResponse)
def remove_user(request: Request, principal: Admin, name: str) -> Response:
    return _back_after(request, principal, lambda: services(request).access.remove_user(name))


@router.post("/access/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    principal: Admin,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> HTMLResponse:
    try:
        created = services(request).access.create_key(name, role)
    except AccessRefused as exc:
        return _page(request, principal, refused=exc)
    return _page(request, principal, created=created)


@router.post("/access/keys/{name}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, principal: Admin, name: str) -> Response:
    return _back_after(request, principal, lambda: services(request).access.revoke(name))
