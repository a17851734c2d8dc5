"""Shared throttles and concurrency pools, one per name in the process.

A connector file names its platform's limits (`throttle: {strategy: …}`); the factories are
registered by the platforms (`cartwire.platforms.registry`). Pools are shared by every instance
assigned to the same name: in this process, or, when `CARTWIRE_RATE_LIMIT_STORAGE` names a
Redis server, by every process using it (`SharedPool`: several workers hold at most `size` in
all).
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from cartwire.connectors.schema import Strategy
from cartwire.http.client import Throttle
from cartwire.http.concurrency_pool import ConcurrencyPool
from cartwire.http.instance_rate_limit import storage_uri
from cartwire.http.shared_pool import SharedPool
from cartwire.http.shared_windows import is_redis
from cartwire.platforms.registry import THROTTLE, registry

log = logging.getLogger(__name__)

# (options, instance, the platform's title from its connector file, to name its limits by)
ThrottleFactory = Callable[[dict[str, Any], Any, str], Throttle]
DEFAULT_POOL_SIZE = 4

_throttles: dict[tuple[str, str], Throttle] = {}
_pools: dict[str, ConcurrencyPool] = {}
_lock = threading.Lock()


def shared_throttle(spec: Strategy, instance: Any, title: str) -> Throttle:
    """One throttle per (strategy, instance) in the process, so all clients share its view."""
    factory = registry().get(THROTTLE, spec.strategy)
    with _lock:
        key = (spec.strategy, instance.name)
        if key not in _throttles:
            _throttles[key] = factory(spec.options, instance, title)
        return _throttles[key]


def pool_for(name: str, size: int | None = None) -> ConcurrencyPool:
    """The process's pool `name`, at `size` (its stored size; None: none is stored, so the
    default, which is logged). A changed size applies to the existing pool at once."""
    if size is None:
        log.warning(
            "concurrency pool %r has no size set; using the default of %d "
            "(set one with `cartwire pools set %s --size N`)",
            name,
            DEFAULT_POOL_SIZE,
            name,
        )
        size = DEFAULT_POOL_SIZE
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            shared = storage_uri()
            if shared is not None and is_redis(shared):
                pool = _pools[name] = SharedPool(name, size, shared)
            else:
                pool = _pools[name] = ConcurrencyPool(name, size)
        elif pool.size != size:
            pool.resize(size)
        return pool
