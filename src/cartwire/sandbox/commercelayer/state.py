"""Settings and the mutable state of one running sandbox (store, config, limiter, …)."""

from __future__ import annotations

from dataclasses import dataclass

from .baseline import seed
from .clock import Clock
from .gateway import Counters, Faults
from .holds import Holds
from .ids import IdGenerator, stable_hex, stable_id
from .imports import Importer
from .ratelimit import PROFILES, Limits, RateLimiter
from .store import Store
from .tokens import TokenSigner

DEFAULT_ORGANIZATION = "cartwire-sandbox"


@dataclass(frozen=True)
class Settings:
    client_id: str
    client_secret: str
    host: str = "127.0.0.1"
    port: int = 0
    organization: str = DEFAULT_ORGANIZATION
    token_lifetime: int = 7200
    rate_limits: str = "test"


@dataclass
class RuntimeConfig:
    token_lifetime: int
    limits: Limits


class Sandbox:
    """Everything a request may read or change; `reset()` returns it to the start state.

    The signing key survives resets (tokens stay valid); it is new on every process start.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.organization_id = stable_id("organization", settings.organization)
        self.application_id = stable_id("application", settings.client_id)
        self.signer = TokenSigner(stable_hex(43, "kid", settings.organization))
        self.clock = Clock()
        self.ids = IdGenerator()
        self.store = self._fresh_store()
        self.config = self._start_config()
        self.limiter = RateLimiter(self.config.limits)
        self.faults = Faults()
        self.holds = Holds()
        self.counters = Counters()
        self.importer = Importer(self.store)

    def _fresh_store(self) -> Store:
        store = Store(self.clock, self.ids)
        seed(store)
        return store

    def _start_config(self) -> RuntimeConfig:
        return RuntimeConfig(self.settings.token_lifetime, PROFILES[self.settings.rate_limits])

    async def reset(self) -> None:
        self.store = self._fresh_store()
        await self.importer.reset(self.store)
        self.config = self._start_config()
        self.limiter.reset(self.config.limits)
        self.faults.clear()
        self.holds.release()
        self.counters.clear()
