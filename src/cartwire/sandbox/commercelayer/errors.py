"""Error documents exactly as Commerce Layer sends them.

Core API errors come from jsonapi-resources (JR 0.10 wording, codes as text, `status` as a
string); Commerce Layer overrides a few texts (record not found, invalid token). Errors of the
token endpoint come from CL's auth service and carry `status` as a number.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

MEDIA_TYPE = "application/vnd.api+json"

ErrorObject = dict[str, Any]


class ApiError(Exception):
    """Raised anywhere below a Core API handler; rendered as one `errors` document."""

    def __init__(self, status: int, errors: list[ErrorObject]) -> None:
        super().__init__(errors[0].get("detail", ""))
        self.status = status
        self.errors = errors


def error_object(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    source: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
) -> ErrorObject:
    """JR's key order: title, detail, code, source, status, meta (nil members left out)."""
    obj: ErrorObject = {"title": title, "detail": detail, "code": code}
    if source is not None:
        obj["source"] = source
    obj["status"] = str(status)
    if meta is not None:
        obj["meta"] = meta
    return obj


def single(status: int, code: str, title: str, detail: str) -> ApiError:
    return ApiError(status, [error_object(status, code, title, detail)])


def record_not_found() -> ApiError:
    return single(
        404,
        "RECORD_NOT_FOUND",
        "Record not found",
        "The requested resource was not found. Please double-check the resource id.",
    )


def invalid_token() -> ApiError:
    return single(
        401, "INVALID_TOKEN", "Invalid token", "The access token you provided is invalid."
    )


def unknown_route(path: str) -> ApiError:
    # Rails answers unrouted paths itself; the exact body of CL's 404 here is undocumented.
    return single(404, "NOT_FOUND", "Not found", f"No route matches {path}.")


def method_not_allowed(method: str) -> ApiError:
    return single(405, "METHOD_NOT_ALLOWED", "Method not allowed", f"{method} is not allowed.")


def unsupported_media_type(content_type: str) -> ApiError:
    return single(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported media type",
        f"All requests that create or update must use the '{MEDIA_TYPE}' Content-Type. "
        f"This request specified '{content_type}'.",
    )


def not_acceptable(accept: str) -> ApiError:
    return single(
        406,
        "NOT_ACCEPTABLE",
        "Not acceptable",
        f"All requests must use the '{MEDIA_TYPE}' Accept without media type parameters. "
        f"This request specified '{accept}'.",
    )


def invalid_page_value(page: str, value: object, detail: str | None = None) -> ApiError:
    return single(
        400,
        "INVALID_PAGE_VALUE",
        "Invalid page value",
        detail or f"{value} is not a valid value for {page} page parameter.",
    )


def page_parameter_not_allowed(param: str) -> ApiError:
    return single(
        400,
        "PARAM_NOT_ALLOWED",
        "Page parameter not allowed",
        f"{param} is not an allowed page parameter.",
    )


def invalid_sort(resource_type: str, criteria: str) -> ApiError:
    return single(
        400,
        "INVALID_SORT_CRITERIA",
        "Invalid sort criteria",
        f"{criteria} is not a valid sort criteria for {resource_type}",
    )


def invalid_include(resource_type: str, relationship: str) -> ApiError:
    # JR's title for this error really is "Invalid field".
    return single(
        400,
        "INVALID_INCLUDE",
        "Invalid field",
        f"{relationship} is not a valid includable relationship of {resource_type}",
    )


def filter_not_allowed(name: str) -> ApiError:
    return single(400, "FILTER_NOT_ALLOWED", "Filter not allowed", f"{name} is not allowed.")


def invalid_resource(resource_type: str) -> ApiError:
    return single(
        400, "INVALID_RESOURCE", "Invalid resource", f"{resource_type} is not a valid resource."
    )


def invalid_field(resource_type: str, field: str) -> ApiError:
    return single(
        400, "INVALID_FIELD", "Invalid field", f"{field} is not a valid field for {resource_type}."
    )


def param_not_allowed(param: str) -> ApiError:
    return single(400, "PARAM_NOT_ALLOWED", "Param not allowed", f"{param} is not allowed.")


def param_missing(param: str) -> ApiError:
    return single(
        400, "PARAM_MISSING", "Missing Parameter", f"The required parameter, {param}, is missing."
    )


def invalid_data_format() -> ApiError:
    return single(400, "INVALID_DATA_FORMAT", "Invalid data format", "Data must be a hash.")


def invalid_links_object() -> ApiError:
    return single(
        400, "INVALID_LINKS_OBJECT", "Invalid Links Object", "Data is not a valid Links Object."
    )


def type_mismatch(type_name: object) -> ApiError:
    return single(
        400,
        "TYPE_MISMATCH",
        "Type Mismatch",
        f"{type_name} is not a valid type for this operation.",
    )


def missing_key() -> ApiError:
    return single(
        400,
        "KEY_ORDER_MISMATCH",
        "A key is required",
        "The resource object does not contain a key.",
    )


def key_not_included_in_url(key: object) -> ApiError:
    return single(
        400,
        "KEY_NOT_INCLUDED_IN_URL",
        "Key is not included in URL",
        f"The URL does not support the key {key}",
    )


def bad_request(detail: str) -> ApiError:
    return single(400, "BAD_REQUEST", "Bad Request", detail)


def locked(detail: str) -> ApiError:
    return single(423, "LOCKED", "Locked resource", detail)


def too_many_requests() -> ApiError:
    return single(
        429,
        "TOO_MANY_REQUESTS",
        "Too many requests",
        "You have exceeded the rate limit for this endpoint. Please retry later.",
    )


_STATUS_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("BAD_REQUEST", "Bad Request", "The request could not be understood by the server."),
    401: ("INVALID_TOKEN", "Invalid token", "The access token you provided is invalid."),
    403: ("FORBIDDEN", "Forbidden", "You are not authorized to perform this action."),
    404: (
        "RECORD_NOT_FOUND",
        "Record not found",
        "The requested resource was not found. Please double-check the resource id.",
    ),
    409: (
        "RECORD_NOT_UNIQUE",
        "Record not unique",
        "The performed operation violates a unique constraint.",
    ),
    422: ("VALIDATION_ERROR", "Unprocessable entity", "The request could not be processed."),
    423: ("LOCKED", "Locked resource", "The resource is locked."),
    429: (
        "TOO_MANY_REQUESTS",
        "Too many requests",
        "You have exceeded the rate limit for this endpoint. Please retry later.",
    ),
    500: ("INTERNAL_SERVER_ERROR", "Internal Server Error", "Internal Server Error"),
    502: ("BAD_GATEWAY", "Bad Gateway", "The server received an invalid response upstream."),
    503: (
        "SERVICE_UNAVAILABLE",
        "Service Unavailable",
        "The service is temporarily unavailable. Please retry later.",
    ),
    504: ("GATEWAY_TIMEOUT", "Gateway Timeout", "The upstream server did not respond in time."),
}


def for_status(status: int) -> ApiError:
    """The Core API error body for an arbitrary status (used by injected faults)."""
    code, title, detail = _STATUS_ERRORS.get(status, ("ERROR", "Error", f"HTTP {status}"))
    return single(status, code, title, detail)


def validation_error(
    field: str,
    message: str,
    error: str,
    *,
    relationship: bool = False,
    extra: dict[str, Any] | None = None,
) -> ErrorObject:
    """One VALIDATION_ERROR object, as JR builds it from an ActiveModel error.

    `field == "base"` gives a general error: pointer `/data`, detail without a field prefix.
    """
    if field == "base":
        pointer, detail = "/data", message
    else:
        section = "relationships" if relationship else "attributes"
        pointer, detail = f"/data/{section}/{field}", f"{field} - {message}"
    return error_object(
        422,
        "VALIDATION_ERROR",
        message,
        detail,
        source={"pointer": pointer},
        meta={"error": error, **(extra or {})},
    )


def api_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps({"errors": error.errors}, separators=(",", ":")),
        status_code=error.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def auth_error_body(title: str, detail: str, code: str, status: int) -> dict[str, Any]:
    return {"errors": [{"title": title, "detail": detail, "code": code, "status": status}]}
