"""A shared, cached token for one (token URL, client, scope), fetched at most once at a time.

Platforms ration token requests (30 a minute is usual), so a token is precious: it is kept until
shortly before it expires, shared by every thread and task of the process (single-flight: when a
hundred callers need a token at once, one asks and the others wait for its answer), and saved
through a `TokenPersistence` so that the next CLI process reuses it instead of asking again.

Across processes (several workers on one store) the persistence's `exclusive` lock makes the
single-flight shared too: a process that finds no usable token takes the lock, looks in the
store again (another process may just have saved one) and only then asks the platform. A token
the platform refused (401) is never taken from the store again, so after an expiry or a
revocation one process fetches the replacement and the others pick it up.
"""

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol

import httpx

from cartwire.auth.token import Token, TokenEndpoint, now, unreachable

DEFAULT_MARGIN = timedelta(minutes=5)


class TokenPersistence(Protocol):
    """Somewhere tokens outlive the process (the store); optional."""

    def load(self, cache_key: str) -> Token | None: ...

    def save(self, cache_key: str, token: Token) -> None: ...

    def exclusive(self, cache_key: str) -> AbstractContextManager[None]:
        """Held by one process at a time per key, around a load-or-fetch."""
        ...


def refresh_margin(token: Token, margin: timedelta | None) -> timedelta:
    """How long before expiry a token counts as used up: 5 minutes or 10 % of its lifetime,
    whichever is less, unless a margin is configured."""
    if margin is not None:
        return margin
    return min(DEFAULT_MARGIN, token.lifetime * 0.1)


class TokenSource:
    def __init__(
        self,
        endpoint: TokenEndpoint,
        persistence: TokenPersistence | None = None,
        margin: timedelta | None = None,
        timeout: float = 30.0,
        on_request: Callable[[], None] | None = None,
        ration: Callable[[], None] | None = None,
    ) -> None:
        """`on_request` is told of every token request made (not of cached tokens handed out):
        the instance's counter of the process's token requests, kept above this layer.
        `ration`, when the platform limits token requests, returns once one may be sent (it
        may block: `cartwire.http.token_ration`)."""
        self.endpoint = endpoint
        self.persistence = persistence
        self.margin = margin
        self.timeout = timeout
        self._token: Token | None = None
        self._refused: str | None = None  # the access token a 401 refused
        self._lock = threading.Lock()
        self._async_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self.requests_made = 0
        self._on_request = on_request
        self._ration = ration

    def _fresh(self, token: Token | None) -> bool:
        return (
            token is not None
            and token.access_token != self._refused
            and now() < token.expires_at - refresh_margin(token, self.margin)
        )

    def _stored(self) -> Token | None:
        if self.persistence is not None:
            stored = self.persistence.load(self.endpoint.cache_key)
            if self._fresh(stored):
                self._token = stored
                return stored
        return None

    def _cached(self) -> Token | None:
        if self._fresh(self._token):
            return self._token
        return self._stored()

    def _keep(self, token: Token) -> Token:
        self._token = token
        if self.persistence is not None:
            self.persistence.save(self.endpoint.cache_key, token)
        return token

    def token(self) -> Token:
        """A fresh token; at most one thread of the process fetches it."""
        token = self._token
        if token is not None and self._fresh(token):
            return token
        with self._lock:
            found = self._cached()
            if found is not None:
                return found
            if self.persistence is None:
                return self._keep(self.fetch())
            with self.persistence.exclusive(self.endpoint.cache_key):
                return self._stored() or self._keep(self.fetch())

    async def atoken(self) -> Token:
        """The asyncio twin of `token`: one task fetches, the others await its result. With a
        persistence the fetch goes through `token` in a thread, as its cross-process lock
        blocks."""
        token = self._token
        if token is not None and self._fresh(token):
            return token
        loop = asyncio.get_running_loop()
        lock = self._async_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            if self.persistence is not None:
                return await asyncio.to_thread(self.token)
            return self._cached() or self._keep(await self.afetch())

    def invalidate(self, access_token: str) -> None:
        """Forget `access_token` after a 401, unless another caller already replaced it; the
        store's copy of it is refused too."""
        with self._lock:
            self._refused = access_token
            if self._token is not None and self._token.access_token == access_token:
                self._token = None

    def _count(self) -> None:
        self.requests_made += 1
        if self._on_request is not None:
            self._on_request()

    def fetch(self) -> Token:
        """Ask the platform for a new token now (no cache): also the instance's credential test."""
        if self._ration is not None:
            self._ration()
        self._count()
        requested_at = now()
        with httpx.Client(timeout=self.timeout) as client:
            try:
                response = client.send(self.endpoint.request())
            except httpx.TransportError as exc:
                raise unreachable(self.endpoint.url, exc) from None
        return self.endpoint.parse(response, requested_at)

    async def afetch(self) -> Token:
        if self._ration is not None:
            await asyncio.to_thread(self._ration)
        self._count()
        requested_at = now()
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            try:
                response = await client.send(self.endpoint.request())
            except httpx.TransportError as exc:
                raise unreachable(self.endpoint.url, exc) from None
        return self.endpoint.parse(response, requested_at)
