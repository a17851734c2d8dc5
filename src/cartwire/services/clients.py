"""Opening an instance: the one way its record becomes a connector and an HTTP client.

`cartwire.open()`, every flow run and `cartwire.connect()` go through `resolve`, so all of them
send with the same credentials, the instance's rate limit, the connector's throttle and the
instance's concurrency pool. A `Platform` shares the process's one `ApiClient` per instance and
settings (one set of keep-alive connections); `connect()` hands out a plain httpx client whose
transport waits for the same throttles and pool.

Those limits are this process's unless `CARTWIRE_RATE_LIMIT_STORAGE` names a Redis server;
then every process using it shares them (`share_limits`, which `cartwire worker` calls).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from cartwire.auth import ClientCredentialsAuth
from cartwire.connectors import Connector
from cartwire.http.client import ApiClient, ConcurrencyPool, Throttle, shared_client
from cartwire.http.governed_transport import AsyncGovernedTransport, GovernedTransport
from cartwire.http.instance_rate_limit import STORAGE_ENV, RateLimit, limiter_for
from cartwire.http.shared_limits import pool_for, shared_throttle
from cartwire.http.shared_windows import is_redis
from cartwire.instances import Instances
from cartwire.resources import Platform
from cartwire.store import InstanceRecord, Store


def share_limits(broker_url: str) -> str | None:
    """Keep rate limits in the broker when it is Redis and no storage is set, so that every
    worker of the deployment draws on one budget per instance; the storage in force (None:
    each process its own, as with a RabbitMQ broker and no Redis named)."""
    if not os.environ.get(STORAGE_ENV) and is_redis(broker_url):
        os.environ[STORAGE_ENV] = broker_url
    return os.environ.get(STORAGE_ENV) or None


@dataclass(frozen=True)
class Resolved:
    """An instance resolved once: its connector, URL, auth and the limits its requests keep."""

    record: InstanceRecord
    connector: Connector
    base_url: str
    auth: ClientCredentialsAuth
    throttles: tuple[Throttle, ...]
    pool: ConcurrencyPool | None

    @property
    def client_key(self) -> str:
        """Which shared `ApiClient` serves it: a changed record or setting gets a new one."""
        record = self.record
        parts = (
            record.name,
            record.updated_at,
            self.base_url,
            record.pool,
            record.rate_limit_amount,
            record.rate_limit_unit,
        )
        return "|".join(str(part) for part in parts)

    def api_client(self) -> ApiClient:
        return ApiClient(
            base_url=self.base_url,
            auth=self.auth,
            headers=dict(self.connector.headers),
            throttles=list(self.throttles),
            pool=self.pool,
            instance=self.record.name,
        )


def resolve(store: Store, name: str) -> Resolved:
    instances = Instances(store)
    record = instances.get(name)
    connector, _ = instances.connector_of(record)
    throttles: list[Throttle] = []
    if record.rate_limit_amount and record.rate_limit_unit:
        limit = RateLimit(record.rate_limit_amount, record.rate_limit_unit)
        throttles.append(limiter_for(record.name, limit))
    if connector.throttle is not None:
        throttles.append(shared_throttle(connector.throttle, record, connector.title))
    pool = None
    if record.pool:
        stored = store.pools.get(record.pool)
        pool = pool_for(record.pool, stored.size if stored else None)
    return Resolved(
        record=record,
        connector=connector,
        base_url=instances.base_url(record),
        auth=ClientCredentialsAuth(instances.token_source(record)),
        throttles=tuple(throttles),
        pool=pool,
    )


def open_platform(store: Store, name: str) -> Platform:
    resolved = resolve(store, name)
    key = resolved.client_key
    return Platform(
        resolved.record, resolved.connector, shared_client(key, resolved.api_client), key
    )


def opener(store: Store) -> Callable[[str], Platform]:
    """What the engine opens instances with (flow runs, lookup tables derived at run start)."""
    return lambda name: open_platform(store, name)


def connect(store: Store, name: str, timeout: float) -> httpx.Client:
    resolved = resolve(store, name)
    return httpx.Client(
        base_url=resolved.base_url,
        auth=resolved.auth,
        headers=dict(resolved.connector.headers),
        timeout=timeout,
        transport=GovernedTransport(
            resolved.throttles, resolved.pool, instance=resolved.record.name
        ),
    )


def aconnect(store: Store, name: str, timeout: float) -> httpx.AsyncClient:
    resolved = resolve(store, name)
    return httpx.AsyncClient(
        base_url=resolved.base_url,
        auth=resolved.auth,
        headers=dict(resolved.connector.headers),
        timeout=timeout,
        transport=AsyncGovernedTransport(
            resolved.throttles, resolved.pool, instance=resolved.record.name
        ),
    )
