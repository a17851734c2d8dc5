"""The token endpoint (Doorkeeper-style client credentials) and the Core API bearer check."""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors
from .ratelimit import Decision
from .state import Sandbox
from .store import Record

REGION = "eu-west-1"
ISSUER = "https://auth.commercelayer.io"

_INVALID_CLIENT = (
    "invalid_client",
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method.",
    "UNAUTHORIZED",
    401,
)
_INVALID_SCOPE = (
    "invalid_scope",
    "The requested scope is invalid, unknown, or malformed.",
    "BAD_REQUEST",
    400,
)
_UNSUPPORTED_GRANT = (
    "unsupported_grant_type",
    "The authorization grant type is not supported by the authorization server.",
    "BAD_REQUEST",
    400,
)
_MISSING_GRANT = (
    "invalid_request",
    "Missing required parameter: grant_type.",
    "BAD_REQUEST",
    400,
)
_MALFORMED = (
    "invalid_request",
    "The request is missing a required parameter, includes an unsupported parameter value, "
    "or is otherwise malformed.",
    "BAD_REQUEST",
    400,
)
_TOO_MANY = (
    "Too many requests",
    "You have exceeded the rate limit of the authentication endpoint. Please retry later.",
    "TOO_MANY_REQUESTS",
    429,
)

_SCOPE = re.compile(r"^(market|store|stock_location):(?:(id|code):(.+)|(\d+)|(all))$")
_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _auth_error(
    error: tuple[str, str, str, int], headers: dict[str, str] | None = None
) -> Response:
    title, detail, code, status = error
    return JSONResponse(
        errors.auth_error_body(title, detail, code, status),
        status_code=status,
        headers={**_NO_CACHE, **(headers or {})},
    )


async def _read_params(request: Request) -> dict[str, str] | None:
    """Body parameters from JSON, JSON:API-typed JSON or a form; None when unreadable."""
    body = await request.body()
    if not body:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


@dataclass
class GrantedScope:
    markets: list[Record]
    stock_locations: list[Record]


def _find(sandbox: Sandbox, type_: str, how: str | None, value: str) -> Record | None:
    table = sandbox.store.table(type_)
    if how == "id":
        return table.records.get(value)
    if how == "code":
        return table.find_unique(("code",), (value,))
    number = int(value)  # legacy `market:1234` names the numeric `number`
    return next((r for r in table.records.values() if r.attrs.get("number") == number), None)


def _parse_scope(sandbox: Sandbox, scope: str) -> GrantedScope | None:
    granted = GrantedScope([], [])
    for item in re.split(r"[\s,]+", scope.strip()):
        match = _SCOPE.match(item)
        if match is None:
            return None
        resource, how, value, number, everything = match.groups()
        if everything:
            if resource != "market":
                return None
            continue
        if resource == "store":
            return None  # the sandbox has no stores
        type_ = "markets" if resource == "market" else "stock_locations"
        found = _find(sandbox, type_, how, value or number)
        if found is None:
            return None
        if resource == "market":
            if found.attrs.get("disabled_at") is not None:
                return None
            granted.markets.append(found)
        else:
            granted.stock_locations.append(found)
    if granted.stock_locations and not granted.markets:
        return None  # a stock location scope needs its market too
    return granted


def _market_claim(sandbox: Sandbox, granted: GrantedScope) -> dict[str, Any]:
    store = sandbox.store
    location_ids: list[str] = []
    for market in granted.markets:
        model_id = market.rels.get("inventory_model")
        if model_id:
            for link in store.table("inventory_stock_locations").referring(
                "inventory_model", model_id
            ):
                location = link.rels.get("stock_location")
                if location and location not in location_ids:
                    location_ids.append(location)
    for location_record in granted.stock_locations:
        if location_record.id not in location_ids:
            location_ids.append(location_record.id)
    return {
        "id": [m.id for m in granted.markets],
        "stock_location_ids": location_ids,
        "geocoder_id": None,
        "allows_external_prices": any(m.attrs.get("external_prices_url") for m in granted.markets),
    }


def rate_limited_response(decision: Decision) -> Response:
    return _auth_error(_TOO_MANY, {"Retry-After": str(decision.retry_after)})


async def token_endpoint(sandbox: Sandbox, request: Request) -> Response:
    client_host = request.client.host if request.client else ""
    decision = sandbox.limiter.check_oauth(client_host)
    if not decision.allowed:
        return rate_limited_response(decision)
    params = await _read_params(request)
    if params is None:
        return _auth_error(_MALFORMED)
    grant_type = params.get("grant_type")
    if not grant_type:
        return _auth_error(_MISSING_GRANT)
    if grant_type != "client_credentials":
        return _auth_error(_UNSUPPORTED_GRANT)
    settings = sandbox.settings
    basic = _basic_credentials(request)
    client_id, secret = basic or (params.get("client_id", ""), params.get("client_secret", ""))
    if client_id != settings.client_id or secret != settings.client_secret:
        return _auth_error(_INVALID_CLIENT)
    requested = params.get("scope", "").strip()
    granted = _parse_scope(sandbox, requested) if requested else GrantedScope([], [])
    if granted is None:
        return _auth_error(_INVALID_SCOPE)
    scope = requested or "market:all"
    now = int(time.time())
    lifetime = sandbox.config.token_lifetime
    claims: dict[str, Any] = {
        "organization": {
            "id": sandbox.organization_id,
            "slug": settings.organization,
            "enterprise": False,
            "region": REGION,
        },
        "application": {
            "id": sandbox.application_id,
            "client_id": settings.client_id,
            "kind": "integration",
            "public": False,
            "confidential": True,
        },
    }
    if granted.markets:
        claims["market"] = _market_claim(sandbox, granted)
    claims.update(
        scope=scope,
        exp=now + lifetime,
        test=True,
        rand=random.random(),
        iat=now,
        iss=ISSUER,
    )
    body = {
        "access_token": sandbox.signer.issue(claims),
        "token_type": "bearer",
        "expires_in": lifetime,
        "scope": scope,
        "created_at": now,
    }
    return JSONResponse(body, headers=_NO_CACHE)


def authenticate(sandbox: Sandbox, authorization: str | None) -> dict[str, Any]:
    """The claims of the request's bearer token; 401 INVALID_TOKEN otherwise."""
    if not authorization or not authorization[:7].lower() == "bearer ":
        raise errors.invalid_token()
    claims = sandbox.signer.verify(authorization[7:].strip())
    if claims is None:
        raise errors.invalid_token()
    organization = claims.get("organization")
    if not isinstance(organization, dict) or organization.get("id") != sandbox.organization_id:
        raise errors.invalid_token()
    return claims
