"""The httpx `Auth` that puts a bearer token on every request (sync and async clients).

On a 401 it drops the token, fetches one new token and retries the request once; a second 401
is an `AuthenticationFailed`, never a loop. The flow generators follow httpx's own `Auth` design,
which keeps authentication a small protocol that can be tested on its own.
"""

from collections.abc import AsyncGenerator, Generator

import httpx

from cartwire.auth.errors import AuthenticationFailed
from cartwire.auth.source import TokenSource


def _bearer(request: httpx.Request, access_token: str) -> None:
    request.headers["Authorization"] = f"Bearer {access_token}"


def _failed(response: httpx.Response) -> AuthenticationFailed:
    return AuthenticationFailed(
        f"{response.request.method} {response.request.url.path} answered 401 twice, once with a "
        "brand-new token: the credentials are valid but lack access (check the scope)",
        status=401,
    )


class ClientCredentialsAuth(httpx.Auth):
    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.source.token().access_token
        _bearer(request, token)
        response = yield request
        if response.status_code != 401:
            return
        self.source.invalidate(token)
        _bearer(request, self.source.token().access_token)
        response = yield request
        if response.status_code == 401:
            response.read()
            raise _failed(response)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = (await self.source.atoken()).access_token
        _bearer(request, token)
        response = yield request
        if response.status_code != 401:
            return
        self.source.invalidate(token)
        _bearer(request, (await self.source.atoken()).access_token)
        response = yield request
        if response.status_code == 401:
            await response.aread()
            raise _failed(response)
