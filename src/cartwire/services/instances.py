"""Instances as the shells see them: added, tested, changed and removed by name, and read back
with every secret masked, so no shell (CLI, HTTP API, web UI) can show one by mistake."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from cartwire.connectors import AuthMethod, get_connector
from cartwire.http.instance_rate_limit import UNITS
from cartwire.instances import Instances, Settings, TestResult
from cartwire.instances.wizard import Question, Request, Terminal, Wizard
from cartwire.logs import MASK
from cartwire.store import InstanceNotFound, InstanceRecord, Store
from cartwire.store.instance_checks import Check

Status = Literal["operational", "unreachable", "failed authentication", "unexpected response"]
# The units an instance's rate limit may be given in, for a shell to offer.
RATE_UNITS: tuple[str, ...] = tuple(UNITS)


def masked(value: str) -> str:
    """A secret as `••••` plus at most its last 4 characters (none for short secrets)."""
    return MASK + value[-4:] if len(value) >= 12 else MASK


class RateLimitView(BaseModel):
    amount: int
    unit: str


class InstanceView(BaseModel):
    """An instance with its secret fields masked."""

    name: str
    connector: str
    auth_method: str
    fields: dict[str, str]
    timezone: str
    rate_limit: RateLimitView | None
    pool: str | None
    created_at: datetime | None
    updated_at: datetime | None
    status: str | None  # its last credential test: operational, failed authentication, …
    tested_at: datetime | None  # None: not tested since it was saved

    @classmethod
    def of(cls, record: InstanceRecord, check: Check | None = None) -> "InstanceView":
        rate = (
            RateLimitView(amount=record.rate_limit_amount, unit=record.rate_limit_unit)
            if record.rate_limit_amount and record.rate_limit_unit
            else None
        )
        return cls(
            name=record.name,
            connector=record.connector,
            auth_method=record.auth_method,
            fields={**record.settings, **{k: masked(v) for k, v in record.secrets.items()}},
            timezone=record.timezone,
            rate_limit=rate,
            pool=record.pool,
            created_at=record.created_at,
            updated_at=record.updated_at,
            status=check.status if check else None,
            tested_at=check.checked_at if check else None,
        )

    @property
    def settings(self) -> Settings:
        rate = self.rate_limit
        return Settings(
            self.timezone, rate.amount if rate else None, rate.unit if rate else None, self.pool
        )


class CredentialTest(BaseModel):
    """What fetching a brand-new token said."""

    name: str
    status: Status
    reason: str
    code: str | None
    scope: str | None
    lifetime_seconds: int | None
    note: str | None  # worth telling although the test passed

    @property
    def ok(self) -> bool:
        return self.status == "operational"

    @classmethod
    def of(cls, name: str, result: TestResult) -> "CredentialTest":
        return cls(
            name=name,
            status=result.status,
            reason=result.reason,
            code=result.code,
            scope=result.scope,
            lifetime_seconds=int(result.lifetime.total_seconds()) if result.lifetime else None,
            note=result.note,
        )


class InstanceService:
    def __init__(self, store: Store) -> None:
        self._instances = Instances(store)
        self._checks = store.instance_checks

    def auth_method(self, connector: str, key: str | None = None) -> AuthMethod:
        """The fields an instance of `connector` is added with (`key` None: the default)."""
        return get_connector(connector).auth_method(key)

    def add(
        self,
        connector: str,
        name: str,
        given: dict[str, str],
        settings: Settings | None = None,
        *,
        test: bool = True,
        auth_method: str | None = None,
        sandbox: bool = False,
    ) -> InstanceView:
        """Checked field by field and (unless `test` is False) by a real token, then saved;
        `sandbox` fills in what the running sandbox hands out."""
        record = self._instances.add(
            connector, name, given, settings, test=test, auth_method=auth_method, sandbox=sandbox
        )
        return self._viewed(record)

    def ensure(self, connector: str, name: str, given: dict[str, str]) -> InstanceView:
        """Add the instance, or update it when its fields differ from `given` (a sandbox that
        restarted with new credentials): the instance ends up with exactly these fields."""
        try:
            current = self._instances.get(name)
        except InstanceNotFound:
            return self.add(connector, name, given)
        if {**current.settings, **current.secrets}.items() >= given.items():
            return self._viewed(current)
        return self.update(name, given)

    def add_asking(self, request: Request, terminal: Terminal, *, advanced: bool) -> InstanceView:
        """`add` with a person at `terminal`, asked for what is missing or failed the test."""
        return self._viewed(Wizard(self._instances, terminal, advanced=advanced).add(request))

    def get(self, name: str) -> InstanceView:
        return self._viewed(self._instances.get(name))

    def all(self) -> list[InstanceView]:
        checks = self._checks.latest()
        return [InstanceView.of(r, checks.get(r.name)) for r in self._instances.list()]

    def _viewed(self, record: InstanceRecord) -> InstanceView:
        """With its last test: read after a save, so a save's passing test shows."""
        return InstanceView.of(record, self._checks.get(record.name))

    def test(self, name: str) -> CredentialTest:
        return CredentialTest.of(name, self._instances.test(name))

    def update(
        self,
        name: str,
        given: dict[str, str],
        settings: Settings | None = None,
        *,
        test: bool = True,
    ) -> InstanceView:
        """Changed auth fields are tested and saved only if they work."""
        return self._viewed(self._instances.update(name, given, settings, test=test))

    def remove(self, name: str, *, force: bool = False) -> None:
        """Refused while a flow is bound to the instance (`InstanceInUse`) unless forced."""
        self._instances.remove(name, force=force)


__all__ = [
    "RATE_UNITS",
    "AuthMethod",
    "CredentialTest",
    "InstanceService",
    "InstanceView",
    "Question",
    "RateLimitView",
    "Request",
    "Settings",
    "Terminal",
]
