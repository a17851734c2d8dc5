"""The Python API's front door: `cartwire.connect()`, `aconnect()` and `open()`.

Each opens the default store unless given one, and leaves it open: the client it returns keeps
the instance's token in that store for the next process.
"""

import httpx

from cartwire.resources import Platform
from cartwire.services.context import Services
from cartwire.store import Store


def connect(name: str, *, store: Store | None = None, timeout: float = 30.0) -> httpx.Client:
    """`cartwire.connect("my-shop")`: base URL set, bearer token managed (cached, refreshed),
    requests held back by the instance's rate limit, the connector's throttle and the
    instance's concurrency pool, like every other client of the instance."""
    return Services(store).connect(name, timeout=timeout)


def aconnect(name: str, *, store: Store | None = None, timeout: float = 30.0) -> httpx.AsyncClient:
    """The asyncio twin of `connect`."""
    return Services(store).aconnect(name, timeout=timeout)


def open_instance(name: str, store: Store | None = None) -> Platform:
    """`with cartwire.open("ct") as ct: for product in ct.read("products"): …`"""
    return Services(store).open(name)
