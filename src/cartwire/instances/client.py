"""The Python API's front door: an authenticated httpx client for a saved instance."""

import httpx

from cartwire.auth import ClientCredentialsAuth
from cartwire.http.instance_rate_limit import (
    AsyncLimitedTransport,
    LimitedTransport,
    Limiter,
    RateLimit,
    limiter_for,
)
from cartwire.instances.service import Instances
from cartwire.store import Store


def _parts(name: str, store: Store | None) -> tuple[str, ClientCredentialsAuth, Limiter | None]:
    instances = Instances(store or Store.open())
    record = instances.get(name)
    limiter = None
    if record.rate_limit_amount and record.rate_limit_unit:
        limit = RateLimit(record.rate_limit_amount, record.rate_limit_unit)
        limiter = limiter_for(record.name, limit)
    auth = ClientCredentialsAuth(instances.token_source(record))
    return instances.base_url(record), auth, limiter


def connect(name: str, *, store: Store | None = None, timeout: float = 30.0) -> httpx.Client:
    """`cartwire.connect("my-shop")`: base URL set, bearer token managed (cached, refreshed),
    requests over the instance's rate limit held back until they fit."""
    base_url, auth, limiter = _parts(name, store)
    transport = LimitedTransport(limiter) if limiter else None
    return httpx.Client(base_url=base_url, auth=auth, timeout=timeout, transport=transport)


def aconnect(name: str, *, store: Store | None = None, timeout: float = 30.0) -> httpx.AsyncClient:
    """The asyncio twin of `connect`."""
    base_url, auth, limiter = _parts(name, store)
    transport = AsyncLimitedTransport(limiter) if limiter else None
    return httpx.AsyncClient(base_url=base_url, auth=auth, timeout=timeout, transport=transport)
