"""Why a token could not be had, as distinct exception types a caller can act on.

Configuration errors (bad client, bad scope) must not be retried; an unreachable host may be.
No exception carries a secret or a token: messages quote the platform's error code and the keys
of a response, never its values.
"""


class AuthError(Exception):
    """Base class: the platform did not give us a usable token."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class InvalidClient(AuthError):
    """The client id or secret was rejected (failed authentication)."""


class InvalidScope(AuthError):
    """The requested scope is malformed or more than the client may have."""


class AuthRejected(AuthError):
    """The token endpoint refused for another reason (grant type, request shape, rate limit)."""


class AuthUnreachable(AuthError):
    """No answer from the auth host: DNS, refused connection, TLS or timeout."""


class UnexpectedTokenResponse(AuthError):
    """An answer that is not JSON, or JSON without the configured token key."""


class AuthenticationFailed(AuthError):
    """The API still answered 401 after one fresh token: the credentials lack access."""
