"""`/login` and `/logout`: a session cookie for a person with a name and a password.

The login form is posted before any session exists, so the session's CSRF token cannot guard
it; a random `cartwire_csrf` cookie repeated in a hidden field does instead (a page on another
site can post the form but can neither read nor set that cookie). Failed attempts are counted
per client address and name in a moving window, so guessing one person's password is slow
while that person, and everyone else, can still log in from elsewhere.
"""

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from cartwire.api.security import SESSION_COOKIE, services
from cartwire.api.ui.pages import render, signed_in

LOGIN_CSRF_COOKIE = "cartwire_csrf"
LOGIN_LIMIT = parse("5/minute")  # failed attempts, per client address and name

router = APIRouter()


def _limiter(request: Request) -> MovingWindowRateLimiter:
    """The app's window of login attempts (made on first use; kept with the app, so two apps in
    one process do not share one)."""
    state = request.app.state
    if not hasattr(state, "login_limiter"):
        state.login_limiter = MovingWindowRateLimiter(MemoryStorage())
    limiter: MovingWindowRateLimiter = state.login_limiter
    return limiter


def _safe_next(target: str) -> str:
    """Where to go after logging in: a path on this site only (never `//elsewhere` or a URL)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _form(
    request: Request,
    *,
    name: str = "",
    next: str = "/",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    has_users = services(request).access.has_users()
    response = render(
        request,
        "login.html",
        None,
        status,
        title="Log in",
        login_csrf=token,
        next=_safe_next(next),
        name=name,
        error=error,
        has_users=has_users,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _form(request, next=next)


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    from cartwire.services.errors import LoginFailed

    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
        return await run_in_threadpool(
            _form,
            request,
            name=name,
            next=next,
            error="The form had expired or did not come from this site: log in again.",
            status=403,
        )
    client = request.client.host if request.client else "unknown"
    attempts = (LOGIN_LIMIT, "login", client, name)
    if not _limiter(request).test(*attempts):
        return await run_in_threadpool(
            _form,
            request,
            name=name,
            next=next,
            error=f"Too many login attempts for {name!r}: wait a minute, then try again.",
            status=429,
        )
    try:
        grant = await run_in_threadpool(services(request).access.login, name, password)
    except LoginFailed:
        _limiter(request).hit(*attempts)
        return await run_in_threadpool(
            _form, request, name=name, next=next, error="Wrong name or password.", status=401
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        grant.token,
        expires=grant.expires_at,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (its CSRF token checked by `identify`, as for every form)."""
    principal = await signed_in(request)
    token = request.cookies.get(SESSION_COOKIE)
    if principal is not None and token:
        await run_in_threadpool(services(request).access.logout, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
