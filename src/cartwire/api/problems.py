"""Errors as RFC 9457 problem documents (`application/problem+json`), one shape for every route.

Each service error a request can cause maps to a status and, where the error knows them, the
fields at fault (`errors: [{field, rule, message}]`), so a client can put the message beside the
input it belongs to. Anything unforeseen is `guards.CatchAll`'s: a bare 500.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from cartwire.services import errors

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str
    rule: str
    message: str


class Problem(BaseModel):
    """The body of every error response (documented in the OpenAPI schema)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised by routes and dependencies for an answer other than success."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    field_errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, errors=field_errors or []
    )
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _field(location: tuple[Any, ...]) -> str:
    """`("body", "fields", "client_id")` → `fields.client_id` (where the client put it)."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def _validation(exc: RequestValidationError) -> JSONResponse:
    found = [
        FieldError(field=_field(tuple(e.get("loc", ()))), rule=e["type"], message=e["msg"])
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in found) or "invalid request"
    return problem_response(422, detail, found)


def _refused(exc: errors.InputRefused) -> JSONResponse:
    """Input a service refused (an instance's fields, a name or role, a run query): each field
    at fault in `errors`, its rule as the message."""
    found = [FieldError(field=field, rule="invalid", message=rule) for field, rule in exc.refused]
    return problem_response(422, str(exc), found)


def _flow_invalid(exc: errors.FlowInvalid) -> JSONResponse:
    found = [
        FieldError(field=p.path or "(top level)", rule="flow", message=p.message)
        for p in exc.problems
    ]
    return problem_response(422, f"invalid flow file: {exc}", found)


def _credentials(exc: errors.CredentialsRejected) -> JSONResponse:
    result = exc.result
    detail = f"credential test failed ({result.status}): {result.reason}; nothing was saved"
    return problem_response(
        422, detail, [FieldError(field="fields", rule=result.status, message=result.reason)]
    )


def _status(status: int) -> Callable[[Exception], JSONResponse]:
    return lambda exc: problem_response(status, str(exc))


# The handler of the nearest class in an error's MRO answers it (Starlette looks them up so).
_STATUSES: dict[type[Exception], Callable[[Any], JSONResponse]] = {
    errors.InputRefused: _refused,
    errors.FlowInvalid: _flow_invalid,
    errors.CredentialsRejected: _credentials,
    errors.InstanceNotFound: _status(404),
    errors.RunNotFound: _status(404),
    errors.FlowNotFound: _status(404),
    errors.InstanceExists: _status(409),
    errors.InstanceInUse: _status(409),
    errors.RunBusy: _status(409),
    errors.PoolRejected: _status(422),
    errors.InvalidRecord: _status(422),
    errors.FlowError: _status(409),
    errors.LookupCsvError: _status(422),
    errors.ConnectorError: _status(422),
    errors.AuthError: _status(502),
    errors.ApiError: _status(502),
    errors.NoSandbox: _status(409),
    errors.StoreError: _status(503),
    ValueError: _status(422),  # any other check of a value, naming no field
}


def _ours(_exc: ValidationError) -> JSONResponse:
    """A model cartwire built itself that did not validate: our bug, not the client's input
    (which FastAPI checks as `RequestValidationError`), though both are `ValueError`s."""
    log.error("a response model did not validate", exc_info=_exc)
    return problem_response(500, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Every error a request can end in answers as a problem document."""

    async def api_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation(exc)

    def answer_with(
        respond: Callable[[Any], JSONResponse],
    ) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
        async def handler(_request: Request, exc: Exception) -> JSONResponse:
            return respond(exc)

        return handler

    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    for kind, respond in _STATUSES.items():
        app.add_exception_handler(kind, answer_with(respond))
    app.add_exception_handler(ValidationError, answer_with(_ours))
