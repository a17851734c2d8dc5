"""One OAuth 2 client-credentials token request, shaped the way the connector file says.

Building the request and reading the answer are plain functions of the connector's data, so the
same code serves the sync and the async clients and can be tested without a network.
"""

import hashlib
import logging
import re
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cartwire.auth.errors import (
    AuthError,
    AuthRejected,
    AuthUnreachable,
    InvalidClient,
    InvalidScope,
    UnexpectedTokenResponse,
)
from cartwire.connectors.schema import AuthMethod, render

log = logging.getLogger("cartwire.auth")


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: datetime
    scope: str | None
    obtained_at: datetime
    # The response key the token was read from when it was not the configured one (its
    # snake/camel twin): the credential test reports it, so a user can correct the field once.
    read_from: str | None = None

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.obtained_at


@dataclass(frozen=True)
class TokenEndpoint:
    """Everything needed to ask one platform for a token for one client."""

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    client_auth: str
    params_in: str
    params: dict[str, str]
    token_key: str
    expires_key: str
    scope_key: str
    rate_limit: tuple[int, float] | None = None  # requests per seconds (connector file)

    @classmethod
    def for_instance(cls, method: AuthMethod, values: dict[str, str]) -> "TokenEndpoint":
        """`values` are an instance's resolved credential values (defaults filled in)."""
        spec = method.token
        params = {k: render(v, values) for k, v in spec.params.items()}
        return cls(
            url=render(spec.url, values),
            client_id=values["client_id"],
            client_secret=values.get("client_secret", ""),
            client_auth=spec.client_auth,
            params_in=spec.params_in,
            params={k: v for k, v in params.items() if v},
            token_key=render(spec.token_key, values),
            expires_key=spec.expires_key,
            scope_key=spec.scope_key,
            rate_limit=(
                None
                if spec.rate_limit is None
                else (spec.rate_limit.requests, spec.rate_limit.per_seconds)
            ),
        )

    @property
    def cache_key(self) -> str:
        """Tokens are shared by everything that would ask for the very same token."""
        scope = " ".join(sorted(self.params.get("scope", "").split()))
        raw = "\n".join([self.url, self.client_id, scope])
        return hashlib.sha256(raw.encode()).hexdigest()

    def request(self) -> httpx.Request:
        params = dict(self.params)
        headers = {"Accept": "application/json"}
        auth: tuple[str, str] | None = None
        if self.client_auth == "basic":
            auth = (self.client_id, self.client_secret)
        else:
            params["client_id"] = self.client_id
            if self.client_secret:
                params["client_secret"] = self.client_secret
        kwargs: dict[str, Any] = {"headers": headers}
        if self.params_in == "json":
            kwargs["json"] = params
        elif self.params_in == "form":
            kwargs["data"] = params
        else:
            kwargs["params"] = params
        if auth is not None:
            pair = b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        return httpx.Request("POST", self.url, **kwargs)

    def parse(self, response: httpx.Response, requested_at: datetime) -> Token:
        """The token, or the specific reason there is none; lifetime counts from the request."""
        body = _json(response)
        if response.status_code >= 400:
            raise _rejection(response.status_code, body, self.url)
        if not isinstance(body, dict):
            raise UnexpectedTokenResponse(
                f"the token endpoint {self.url} answered {response.status_code} with "
                f"{response.headers.get('content-type', 'no content type')}, not a JSON object",
                status=response.status_code,
            )
        access_token, read_from = self._find_token(body)
        expires_in = body.get(self.expires_key)
        if not isinstance(expires_in, int | float) or expires_in <= 0:
            raise UnexpectedTokenResponse(
                f"the token response has no positive {self.expires_key!r}; "
                f"it had keys: {', '.join(sorted(body))}"
            )
        scope = body.get(self.scope_key)
        return Token(
            access_token=access_token,
            expires_at=requested_at + timedelta(seconds=float(expires_in)),
            scope=scope if isinstance(scope, str) else None,
            obtained_at=requested_at,
            read_from=read_from,
        )

    def _find_token(self, body: dict[str, Any]) -> tuple[str, str | None]:
        """The token and, when it came from the key's twin, that twin. Only debug-logged here:
        every token of such an instance takes this path, and the credential test (once per
        instance, when it is added or tested) is where the user is told."""
        value = _dig(body, self.token_key)
        if isinstance(value, str) and value:
            return value, None
        twin = _twin(self.token_key)
        twin_value = _dig(body, twin)
        if isinstance(twin_value, str) and twin_value:
            log.debug(
                "token key %r not in the response from %s; read %r", self.token_key, self.url, twin
            )
            return twin_value, twin
        raise UnexpectedTokenResponse(
            f"the token response has no {self.token_key!r}; it had keys: {', '.join(sorted(body))}"
        )


def _dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _twin(path: str) -> str:
    """snake_case ↔ camelCase of the last segment: `accessToken` ↔ `access_token`."""
    head, _, last = path.rpartition(".")
    if "_" in last:
        first, *rest = last.split("_")
        twin = first + "".join(part.title() for part in rest)
    else:
        twin = re.sub(r"(?<!^)([A-Z])", r"_\1", last).lower()
    return f"{head}.{twin}" if head else twin


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(body: Any) -> tuple[str | None, str | None]:
    """(code, description) from an OAuth error (`error`) or a JSON:API one (`errors[0]`)."""
    if not isinstance(body, dict):
        return None, None
    if isinstance(body.get("error"), str):
        return body["error"], body.get("error_description") or body.get("message")
    errors = body.get("errors")
    if isinstance(errors, dict):
        errors = [errors]
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return first.get("title") or first.get("code"), first.get("detail") or first.get("message")
    return None, None


def _rejection(status: int, body: Any, url: str) -> AuthError:
    code, description = _error_code(body)
    detail = f": {description}" if description else ""
    if code == "invalid_client" or (status == 401 and code in (None, "UNAUTHORIZED")):
        return InvalidClient(
            f"failed authentication at {url}: {code or status}{detail}", code=code, status=status
        )
    if code == "invalid_scope":
        return InvalidScope(
            f"failed authentication at {url}: invalid_scope{detail}", code=code, status=status
        )
    return AuthRejected(
        f"the token endpoint {url} answered {status} {code or ''}{detail}".rstrip(),
        code=code,
        status=status,
    )


def unreachable(url: str, exc: httpx.TransportError) -> AuthUnreachable:
    host = httpx.URL(url).host
    if isinstance(exc, httpx.TimeoutException):
        reason = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        reason = "connection failed"
    else:
        reason = type(exc).__name__
    return AuthUnreachable(f"auth host {host} unreachable ({reason}) at {url}: {exc}")


def now() -> datetime:
    return datetime.now(UTC)
