"""OAuth 2 client credentials, asked for the way each connector file says."""

from cartwire.auth.errors import (
    AuthenticationFailed,
    AuthError,
    AuthRejected,
    AuthUnreachable,
    InvalidClient,
    InvalidScope,
    UnexpectedTokenResponse,
)
from cartwire.auth.provider import ClientCredentialsAuth
from cartwire.auth.source import TokenPersistence, TokenSource
from cartwire.auth.token import Token, TokenEndpoint

__all__ = [
    "AuthError",
    "AuthRejected",
    "AuthUnreachable",
    "AuthenticationFailed",
    "ClientCredentialsAuth",
    "InvalidClient",
    "InvalidScope",
    "Token",
    "TokenEndpoint",
    "TokenPersistence",
    "TokenSource",
    "UnexpectedTokenResponse",
]
