"""Every failed API call as a typed exception carrying the platform's own words.

A caller can branch on the type (a 409 is re-read and re-applied, a 422 is a bad record, a 503
storm is worth waiting out) and a person reads the platform's error code, message and request
id. The request's Authorization header is never part of any of it: these exceptions hold plain
strings only, never an httpx request or response (whose headers carry the bearer token), and the
client raises them outside any `except` block so no httpx exception rides along as `__context__`.
"""

from typing import Any

import httpx

# Headers under which platforms return an id for the request, for their support staff.
REQUEST_ID_HEADERS = ("x-correlation-id", "x-request-id", "x-trace-id")
# The id cartwire gives every request (some platforms log a client-supplied one; for the others
# it still ties our log lines to one request and its retries).
CORRELATION_HEADER = "X-Correlation-ID"


class ApiError(Exception):
    """The platform answered with an error status (after any retries), or did not answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        errors: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.method = method
        self.url = url
        self.errors = errors or []
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.method} {self.url}".strip()
        parts = [f"{where}: " if where else "", f"{self.status} " if self.status else ""]
        parts += [f"{self.code}: " if self.code else "", self.message]
        if self.request_id:
            parts.append(f" (request id {self.request_id})")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class BadRequest(ApiError):
    """400/422: the request or the record is invalid; repeating it cannot help."""


class Unauthorized(ApiError):
    """401/403: the token is missing, expired after a refresh, or lacks permission."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: a concurrent modification (a stale version) or a unique constraint."""


class RateLimited(ApiError):
    """429 that outlasted every retry, or whose Retry-After was longer than we wait."""


class ServerError(ApiError):
    """5xx that outlasted every retry (or a non-idempotent request that was not repeated)."""


class Unreachable(ApiError):
    """No complete answer: connection refused or dropped, DNS, protocol error."""


class TimedOut(Unreachable):
    """No answer within the client's timeout (connect, read, write or pool)."""


def _first_error(body: Any) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """(code, message, errors) from the usual shapes of an error body.

    A message with a list: {"statusCode", "message", "errors": [{"code", "message"}]}.
    JSON:API: {"errors": [{"title", "detail", "code", "status", "source"}]}.
    OAuth: {"error", "error_description"}.
    """
    if not isinstance(body, dict):
        return None, None, []
    errors = body.get("errors")
    if isinstance(errors, dict):
        errors = [errors]
    listed = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    first = listed[0] if listed else {}
    code = first.get("code") or body.get("error")
    message = first.get("detail") or first.get("message") or first.get("title")
    message = message or body.get("message") or body.get("error_description")
    source = first.get("source")
    pointer = source.get("pointer") if isinstance(source, dict) else None
    if message and pointer:
        message = f"{message} ({pointer})"
    return (str(code) if code else None, str(message) if message else None, listed)


def _kind(status: int) -> type[ApiError]:
    if status in (400, 422):
        return BadRequest
    if status in (401, 403):
        return Unauthorized
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return ApiError


def _where(request: httpx.Request) -> str:
    """The URL without its query: filters can be long, and the path says which call failed."""
    return str(request.url.copy_with(query=None))


def request_id_of(request: httpx.Request, response: httpx.Response | None = None) -> str | None:
    """The platform's id for the request when it gives one, else the one we sent."""
    if response is not None:
        for header in REQUEST_ID_HEADERS:
            if header in response.headers:
                return str(response.headers[header])
        try:
            body = response.json()
        except ValueError:
            body = None
        meta = body.get("meta") if isinstance(body, dict) else None
        if isinstance(meta, dict) and meta.get("trace_id"):
            return str(meta["trace_id"])
    sent: str | None = request.headers.get(CORRELATION_HEADER)
    return sent


def error_from_response(response: httpx.Response, retry_after: float | None = None) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message, errors = _first_error(body)
    return _kind(response.status_code)(
        message or response.reason_phrase or "error",
        status=response.status_code,
        code=code,
        request_id=request_id_of(response.request, response),
        method=response.request.method,
        url=_where(response.request),
        errors=errors,
        retry_after=retry_after,
    )


def error_from_transport(request: httpx.Request, exc: httpx.TransportError) -> Unreachable:
    kind = TimedOut if isinstance(exc, httpx.TimeoutException) else Unreachable
    detail = str(exc) or "no detail"
    return kind(
        f"{type(exc).__name__}: {detail}",
        status=None,
        request_id=request_id_of(request),
        method=request.method,
        url=_where(request),
    )
