"""Everything a platform provides, by the name connector and flow files use for it.

The engine never imports a platform package: it asks this registry. Platforms are plug-ins,
found through the entry points of group `cartwire.platforms`; each names a `register(registry)`
function that adds what the package provides, so installing a package is all it takes to add a
platform. The engine's generic pieces are added the same way, first.

Every kind is registered in one style, `registry.add(KIND, name, "module:attribute")` (for files
`"package:path/in/it"`), and resolved on first use only: loading the registry, listing
connectors and validating connector files import no platform code, so neither httpx nor
SQLAlchemy. An object may also be given as it is, for plug-ins that do not mind the import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.resources.abc import Traversable

    from cartwire.flows.webhook_kinds import WebhookKind
    from cartwire.http.paging.base import Paginator
    from cartwire.http.shared_limits import ThrottleFactory
    from cartwire.resources.failures import ErrorClassifier
    from cartwire.resources.writer import Writer

ENTRY_POINTS = "cartwire.platforms"
ENGINE = "cartwire"  # the provider name of the engine's own generic pieces

T = TypeVar("T")


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One sort of thing platforms provide; `label` is how messages name it."""

    key: str
    label: str
    file: bool = False  # refs are "package:path" of a file shipped in the package


PAGINATOR: Kind[type[Paginator]] = Kind("paginator", "paging strategy")
WRITER: Kind[type[Writer]] = Kind("writer", "write strategy")
THROTTLE: Kind[ThrottleFactory] = Kind("throttle", "throttle strategy")
ERROR_CLASSIFIER: Kind[ErrorClassifier] = Kind("error_classifier", "error classifier")
# A platform's money object as (minor units, fraction digits); None for any other value, and a
# ValueError, naming the value, for one of its shape that is malformed.
MONEY_READER: Kind[Callable[[Any], tuple[int, int] | None]] = Kind("money_reader", "money reader")
WEBHOOK: Kind[WebhookKind] = Kind("webhook", "webhook kind")
CONNECTOR_FILE: Kind[Traversable] = Kind("connector_file", "connector file", file=True)
FLOW_FILE: Kind[Traversable] = Kind("flow_file", "flow file", file=True)


class RegistryError(ValueError):
    """A name registered twice, a reference that does not resolve, or a broken plug-in."""


class UnknownName(RegistryError):
    """A name nothing registered; the message lists the names that are known."""

    def __init__(self, kind: Kind[Any], name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind.label} {name!r} (known: {', '.join(known) or 'none'})")
        self.kind, self.name, self.known = kind, name, known


@dataclass
class _Entry:
    ref: object  # "module:attribute", "package:path" or the object itself
    provider: str
    resolved: bool = False


class Registry:
    def __init__(self) -> None:
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._provider = ENGINE

    def add(self, kind: Kind[T], name: str, ref: str | T) -> None:
        """Make `ref` available under `name`; a string is resolved only when first asked for."""
        entries = self._entries.setdefault(kind.key, {})
        if name in entries:
            raise RegistryError(
                f"{self._provider}: {kind.label} {name!r} is already registered by "
                f"{entries[name].provider}"
            )
        if isinstance(ref, str) and ":" not in ref:
            raise RegistryError(
                f"{self._provider}: {kind.label} {name!r}: {ref!r} is not module:name"
            )
        entries[name] = _Entry(ref, self._provider, resolved=not isinstance(ref, str))

    def names(self, kind: Kind[Any]) -> list[str]:
        return sorted(self._entries.get(kind.key, {}))

    def check(self, kind: Kind[Any], name: str) -> None:
        """Raise `UnknownName` unless the name is registered (nothing is imported)."""
        self._entry(kind, name)

    def get(self, kind: Kind[T], name: str) -> T:
        entry = self._entry(kind, name)
        if not entry.resolved:
            entry.ref = self._resolve(kind, name, cast(str, entry.ref))
            entry.resolved = True
        return cast(T, entry.ref)

    def _entry(self, kind: Kind[Any], name: str) -> _Entry:
        entries = self._entries.get(kind.key, {})
        if name not in entries:
            raise UnknownName(kind, name, sorted(entries))
        return entries[name]

    def _resolve(self, kind: Kind[Any], name: str, ref: str) -> object:
        where, _, attribute = ref.partition(":")
        try:
            if kind.file:
                file = resources.files(where).joinpath(attribute)
                if not file.is_file():
                    raise FileNotFoundError(f"no file {attribute} in {where}")
                return file
            found = getattr(importlib.import_module(where), attribute)
        except (ImportError, AttributeError, FileNotFoundError) as exc:
            raise RegistryError(f"{kind.label} {name!r} ({ref}) does not resolve: {exc}") from exc
        registered_as = getattr(found, "name", name)
        if isinstance(registered_as, str) and registered_as != name:
            raise RegistryError(f"{kind.label} {name!r} ({ref}) calls itself {registered_as!r}")
        return found

    def load(self, provider: str, register: Any) -> None:
        """Run one plug-in's `register(registry)`, its names credited to `provider`."""
        self._provider = provider
        try:
            register(self)
        finally:
            self._provider = ENGINE


def _generic(registry: Registry) -> None:
    """The engine's own pieces, which any connector file may use."""
    for name, cls in [
        ("limit_offset", "LimitOffset"),
        ("page_number", "PageNumber"),
        ("next_url", "NextUrl"),
        ("link_header", "LinkHeader"),
        ("cursor", "CursorToken"),
    ]:
        registry.add(PAGINATOR, name, f"cartwire.http.paging.generic:{cls}")
    registry.add(WRITER, "rest", "cartwire.resources.rest_writer:RestWriter")
    registry.add(WRITER, "jsonapi", "cartwire.resources.jsonapi_writer:JsonApiWriter")
    registry.add(ERROR_CLASSIFIER, "http_status", "cartwire.resources.failures:by_http_status")
    registry.add(WEBHOOK, "signed_url", "cartwire.flows.webhooks:SIGNED_URL_KIND")


@cache
def registry() -> Registry:
    """The process's registry: the engine's pieces, then every installed plug-in's."""
    found = Registry()
    found.load(ENGINE, _generic)
    seen: set[tuple[str, str]] = set()
    for point in sorted(metadata.entry_points(group=ENTRY_POINTS), key=lambda p: p.name):
        if (point.name, point.value) in seen:  # the same distribution found twice on the path
            continue
        seen.add((point.name, point.value))
        try:
            register = point.load()
        except Exception as exc:
            raise RegistryError(
                f"plug-in {point.name!r} ({point.value}) fails to load: {exc}"
            ) from exc
        found.load(point.name, register)
    return found
