"""Connector instances: one account's credentials, checked field by field and by a real token
before they are saved (only valid credentials can be saved), then stored with secrets encrypted.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from cartwire.auth import (
    AuthError,
    AuthUnreachable,
    InvalidClient,
    InvalidScope,
    Token,
    TokenEndpoint,
    TokenSource,
)
from cartwire.connectors import AuthMethod, Connector, get_connector
from cartwire.connectors.schema import render
from cartwire.http import request_stats
from cartwire.http.instance_rate_limit import UNITS as RATE_UNITS
from cartwire.http.token_ration import token_ration
from cartwire.instances.sandboxes import require_sandbox, with_sandbox
from cartwire.instances.validation import (
    NAME_PATTERN,
    FieldProblem,
    InvalidFields,
    check_name,
    resolved,
    validate,
)
from cartwire.store import CachedToken, InstanceExists, InstanceRecord, Store

log = logging.getLogger("cartwire.instances")

Status = Literal["operational", "unreachable", "failed authentication", "unexpected response"]
OPERATIONAL: Status = "operational"


@dataclass(frozen=True)
class Settings:
    """Patchworks' instance settings: how times are read, and how hard we may hit the API."""

    timezone: str = "UTC"
    rate_limit_amount: int | None = None
    rate_limit_unit: str | None = None
    pool: str | None = None

    def check(self) -> None:
        problems = []
        if self.timezone not in available_timezones():
            problems.append(
                FieldProblem(
                    "timezone",
                    "Time zone",
                    f"unknown time zone {self.timezone!r}; expected an IANA name such as "
                    "Europe/London or UTC",
                )
            )
        if (self.rate_limit_amount is None) != (self.rate_limit_unit is None):
            problems.append(
                FieldProblem(
                    "rate_limit",
                    "Rate limit",
                    "give both an amount and a unit (e.g. --rate-limit-amount 10 "
                    "--rate-limit-unit second), or neither",
                )
            )
        if self.rate_limit_amount is not None and self.rate_limit_amount < 1:
            problems.append(
                FieldProblem(
                    "rate_limit_amount", "Rate limit amount", "expected a whole number >= 1"
                )
            )
        if self.rate_limit_unit is not None and self.rate_limit_unit not in RATE_UNITS:
            problems.append(
                FieldProblem(
                    "rate_limit_unit",
                    "Rate limit unit",
                    f"expected one of {', '.join(RATE_UNITS)}, got {self.rate_limit_unit!r}",
                )
            )
        if self.pool is not None and not NAME_PATTERN.fullmatch(self.pool):
            problems.append(
                FieldProblem(
                    "pool",
                    "Concurrency pool",
                    f"expected a name like 'shared-ct', got {self.pool!r}",
                )
            )
        if problems:
            raise InvalidFields(problems)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class TestResult:
    status: Status
    reason: str
    scope: str | None = None
    lifetime: timedelta | None = None
    code: str | None = None
    note: str | None = None  # worth telling the user although the test passed

    @property
    def ok(self) -> bool:
        return self.status == OPERATIONAL


class InstanceInUse(Exception):
    def __init__(self, name: str, flows: list[str]) -> None:
        self.flows = flows
        super().__init__(
            f"instance {name!r} is used by the flows {', '.join(flows)}; bind them elsewhere "
            "(`cartwire flows enable FLOW --source … --destination …`) or remove with --force"
        )


class CredentialsRejected(Exception):
    """The credential test failed; nothing was saved."""

    def __init__(self, result: TestResult) -> None:
        self.result = result
        super().__init__(f"{result.status}: {result.reason}")


class StoreTokens:
    """Keeps tokens in the store so consecutive processes reuse one token."""

    def __init__(self, store: Store, instance: str) -> None:
        self.store = store
        self.instance = instance

    def load(self, cache_key: str) -> Token | None:
        cached = self.store.tokens.load(cache_key)
        if cached is None:
            return None
        return Token(cached.access_token, cached.expires_at, cached.scope, cached.obtained_at)

    def save(self, cache_key: str, token: Token) -> None:
        self.store.tokens.save(
            cache_key,
            self.instance,
            CachedToken(token.access_token, token.expires_at, token.scope, token.obtained_at),
        )

    def exclusive(self, cache_key: str) -> AbstractContextManager[None]:
        return self.store.tokens.exclusive(cache_key)


def _values(record: InstanceRecord) -> dict[str, str]:
    return {**record.settings, **record.secrets}


def _split(method: AuthMethod, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    secret_keys = {f.key for f in method.fields if f.secret}
    settings = {k: v for k, v in values.items() if k not in secret_keys}
    secrets = {k: v for k, v in values.items() if k in secret_keys}
    return settings, secrets


def _counter(instance: str) -> Callable[[], None]:
    """Counts a token source's requests in the process's `request_stats`, under the instance
    it was made for (instances with the very same credentials share one source, and so count
    under the first one's name)."""
    return lambda: request_stats.token_requested(instance)


def _ration(endpoint: TokenEndpoint, title: str) -> Callable[[], None] | None:
    """The wait before each token request, where the connector file limits them."""
    if endpoint.rate_limit is None:
        return None
    return token_ration(endpoint.url, *endpoint.rate_limit, title=title)


_sources: dict[tuple[str | None, str], TokenSource] = {}
_sources_lock = threading.Lock()


def shared_source(
    endpoint: TokenEndpoint, store: Store | None, instance: str, title: str
) -> TokenSource:
    """One TokenSource per token identity and store in this process, so every client of an
    instance shares one cached token and one in-flight request. The store is part of the key
    because the source saves its token there: a source made for one store (another
    CARTWIRE_HOME) must not serve, nor save into, another."""
    key = (None if store is None else store.url, endpoint.cache_key)
    with _sources_lock:
        source = _sources.get(key)
        if source is None or source.endpoint != endpoint:
            persistence = StoreTokens(store, instance) if store is not None else None
            source = _sources[key] = TokenSource(
                endpoint,
                persistence,
                on_request=_counter(instance),
                ration=_ration(endpoint, title),
            )
        return source


class Instances:
    def __init__(self, store: Store) -> None:
        self.store = store

    def connector_of(self, record: InstanceRecord) -> tuple[Connector, AuthMethod]:
        connector = get_connector(record.connector)
        return connector, connector.auth_method(record.auth_method)

    def endpoint(self, record: InstanceRecord) -> TokenEndpoint:
        _, method = self.connector_of(record)
        return TokenEndpoint.for_instance(method, resolved(method, _values(record)))

    def base_url(self, record: InstanceRecord) -> str:
        _, method = self.connector_of(record)
        return render(method.base_url, resolved(method, _values(record)))

    def token_source(self, record: InstanceRecord) -> TokenSource:
        connector, _ = self.connector_of(record)
        return shared_source(self.endpoint(record), self.store, record.name, connector.title)

    def add(
        self,
        connector_name: str,
        name: str,
        given: dict[str, str],
        settings: Settings | None = None,
        *,
        test: bool = True,
        auth_method: str | None = None,
        sandbox: bool = False,
    ) -> InstanceRecord:
        """`sandbox`: fill in the fields the running sandbox hands out (given values win)."""
        self.check_new(name)
        if sandbox:
            method = get_connector(connector_name).auth_method(auth_method)
            given = with_sandbox(require_sandbox(connector_name), method, given)
        record = self.prepare(connector_name, name, given, settings, auth_method)
        if test:
            self._require_valid(record)
        return self.save(record, tested=test)

    def check_new(self, name: str) -> None:
        """Refuse a bad or taken name up front, before anyone types (or tests) credentials."""
        check_name(name)
        if name in self.store.instances.names():
            raise InstanceExists(name)

    def prepare(
        self,
        connector_name: str,
        name: str,
        given: dict[str, str],
        settings: Settings | None = None,
        auth_method: str | None = None,
    ) -> InstanceRecord:
        """The record `add` would save, every field checked, but neither tested nor saved."""
        check_name(name)
        connector = get_connector(connector_name)
        method = connector.auth_method(auth_method)
        settings = settings or Settings()
        settings.check()
        values = validate(method, given)
        plain, secrets_ = _split(method, values)
        return InstanceRecord(
            name=name,
            connector=connector.name,
            auth_method=method.key,
            settings=plain,
            secrets=secrets_,
            timezone=settings.timezone,
            rate_limit_amount=settings.rate_limit_amount,
            rate_limit_unit=settings.rate_limit_unit,
            pool=settings.pool,
        )

    def save(self, record: InstanceRecord, *, tested: bool = False) -> InstanceRecord:
        """Store a record from `prepare`; `tested`: the caller's credential test passed, so
        the instance starts out operational rather than untested."""
        saved = self.store.instances.add(record)
        if tested:
            self.store.instance_checks.record(saved.name, OPERATIONAL)
        return saved

    def get(self, name: str) -> InstanceRecord:
        return self.store.instances.get(name)

    def list(self) -> list[InstanceRecord]:
        return self.store.instances.all()

    def test(self, name_or_record: str | InstanceRecord) -> TestResult:
        """Fetch a brand-new token (never the cached one) and say what happened; a saved
        instance (given by name) keeps the result as its last test."""
        if isinstance(name_or_record, InstanceRecord):
            return self._fetch(name_or_record)
        result = self._fetch(self.get(name_or_record))
        self.store.instance_checks.record(name_or_record, result.status)
        return result

    def _fetch(self, record: InstanceRecord) -> TestResult:
        endpoint = self.endpoint(record)
        ration = _ration(endpoint, self.connector_of(record)[0].title)
        source = TokenSource(endpoint, on_request=_counter(record.name), ration=ration)
        try:
            token = source.fetch()
        except InvalidClient as exc:
            return TestResult("failed authentication", str(exc), code=exc.code)
        except InvalidScope as exc:
            return TestResult("failed authentication", str(exc), code=exc.code)
        except AuthUnreachable as exc:
            return TestResult("unreachable", str(exc))
        except AuthError as exc:
            return TestResult("unexpected response", str(exc), code=exc.code)
        note = None
        if token.read_from is not None:
            note = (
                f"the token response has no {source.endpoint.token_key!r}; cartwire read "
                f"{token.read_from!r} instead (set the token key field to {token.read_from!r} "
                "to match the response exactly)"
            )
        return TestResult(
            OPERATIONAL,
            "a token was issued",
            scope=token.scope,
            lifetime=token.lifetime,
            note=note,
        )

    def _require_valid(self, record: InstanceRecord) -> None:
        result = self.test(record)
        if not result.ok:
            raise CredentialsRejected(result)
        if result.note:
            log.warning("instance %s: %s", record.name, result.note)

    def update(
        self,
        name: str,
        given: dict[str, str],
        settings: Settings | None = None,
        *,
        test: bool = True,
    ) -> InstanceRecord:
        """Change fields and settings; re-test when an auth field changed, keeping the old values
        if the new ones fail."""
        current = self.get(name)
        _, method = self.connector_of(current)
        merged = {**_values(current), **given}
        values = validate(method, {k: v for k, v in merged.items() if v})
        plain, secrets_ = _split(method, values)
        settings = settings or Settings(
            current.timezone, current.rate_limit_amount, current.rate_limit_unit, current.pool
        )
        settings.check()
        updated = replace(
            current,
            settings=plain,
            secrets=secrets_,
            timezone=settings.timezone,
            rate_limit_amount=settings.rate_limit_amount,
            rate_limit_unit=settings.rate_limit_unit,
            pool=settings.pool,
        )
        auth_changed = values != _values(current)
        if auth_changed and test:
            self._require_valid(updated)
        if auth_changed:
            self.store.tokens.delete(name)
        replaced = self.store.instances.replace(updated)
        if auth_changed and test:
            self.store.instance_checks.record(name, OPERATIONAL)
        return replaced

    def remove(self, name: str, *, force: bool = False) -> None:
        """Refused while a flow is bound to the instance (Patchworks does the same), unless
        forced; a forced removal also drops those flows' bindings."""
        self.store.instances.get(name)
        users = self.store.bindings.using(name)
        if users and not force:
            raise InstanceInUse(name, users)
        for flow in users:
            self.store.bindings.unbind(flow)
        self.store.instances.remove(name)
