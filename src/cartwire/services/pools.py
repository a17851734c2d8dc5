"""Named concurrency pools: their sizes, and which instances share each."""

from pydantic import BaseModel

from cartwire.http.shared_limits import DEFAULT_POOL_SIZE
from cartwire.instances.validation import NAME_PATTERN
from cartwire.store import PoolNotFound, Store


class PoolRejected(ValueError):
    """A pool name or size that cannot be stored."""


class PoolView(BaseModel):
    name: str
    size: int
    default: bool  # no size stored: the pool runs at DEFAULT_POOL_SIZE
    instances: list[str]


class PoolService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def set(self, name: str, size: int) -> PoolView:
        if not NAME_PATTERN.fullmatch(name):
            raise PoolRejected(f"invalid pool name {name!r}: expected a name like 'shared-ct'")
        if size < 1:
            raise PoolRejected(f"--size must be at least 1, got {size}")
        record = self._store.pools.set(name, size)
        members = self._store.pools.members().get(name, [])
        return PoolView(name=record.name, size=record.size, default=False, instances=members)

    def all(self) -> list[PoolView]:
        """Every pool, including those instances name but no size was set for."""
        stored = {pool.name: pool.size for pool in self._store.pools.all()}
        members = self._store.pools.members()
        return [
            PoolView(
                name=name,
                size=stored.get(name, DEFAULT_POOL_SIZE),
                default=name not in stored,
                instances=members.get(name, []),
            )
            for name in sorted(stored.keys() | members.keys())
        ]

    def remove(self, name: str) -> list[str]:
        """Forget a pool's size; returns the instances that now run at the default size."""
        try:
            self._store.pools.remove(name)
        except PoolNotFound:
            raise PoolRejected(f"no pool named {name!r}; see `cartwire pools list`") from None
        return self._store.pools.members().get(name, [])
