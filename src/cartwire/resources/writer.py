"""Writing records: the result vocabulary and the writer protocol platform writers implement."""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.http.errors import ApiError
from cartwire.platforms.registry import ERROR_CLASSIFIER, registry
from cartwire.resources.failures import ErrorClass

Outcome = Literal["created", "updated", "unchanged", "deleted", "skipped", "failed"]
# create-only: never touch what exists; update-only: never create.
Mode = Literal["upsert", "create-only", "update-only"]


@dataclass(frozen=True)
class Change:
    """One field an update changes (or, in a dry run, would change): where in the record, the
    destination's value now, and the value the write sets (None: unset). Writers derive it from
    the same comparison that decides the write, so a dry run shows exactly what a run sends."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class WriteResult:
    """What happened to one record: the platform's id, and for a failure its code and message."""

    key: str | None
    outcome: Outcome
    id: str | None = None
    code: str | None = None
    message: str | None = None
    record: dict[str, Any] | None = None  # the platform's version after the write
    changes: tuple[Change, ...] | None = None  # an update's fields, where the writer tells them
    error_class: ErrorClass | None = None  # a failure's, by its platform (`Writer.classified`)

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    @property
    def retryable(self) -> bool:
        """A failure that another try may mend: the platform was busy or someone wrote first."""
        return self.failed and self.error_class in ("transient", "conflict")


def failure(label: str | None, error: ApiError) -> WriteResult:
    """A record the platform refused, with its code (or status) and every reason it gave. A
    request that got no answer has no code: error classifiers read None as "never answered",
    which is worth another try (`cartwire.resources.failures`)."""
    code = error.code or (None if error.status is None else str(error.status))
    return WriteResult(label, "failed", code=code, message=describe(error))


def describe(error: ApiError) -> str:
    """Every error object of a platform error, with its pointer: what a person needs to fix."""
    parts = []
    for item in error.errors:
        text = item.get("detail") or item.get("title") or ""
        pointer = (item.get("source") or {}).get("pointer")
        parts.append(f"{text} ({pointer})" if pointer else str(text))
    return "; ".join(p for p in parts if p) or (str(error.args[0]) if error.args else str(error))


class Writer(ABC):
    """Creates, updates, deletes and upserts records of one endpoint.

    `upsert` matches records by natural key and writes only what differs: a record that has not
    changed makes no write at all, so replaying a batch after a crash is free and harmless. An
    object in a record merges into the destination's object (`nested`), unless `replace` names
    its field.
    """

    name: ClassVar[str]
    # True when the platform itself never changes an existing record through this endpoint
    # (e.g. an import endpoint for orders), so "create-only" needs no look-ahead.
    create_only: ClassVar[bool] = False
    # Requests in flight while writing a batch; a flow's `settings.concurrency` overrides it.
    concurrency: int = 1
    # Top-level fields whose object value replaces the destination's (a flow's `replace: true`);
    # every other object value is merged into what the destination has (`nested`).
    replace: frozenset[str] = frozenset()
    # The registered error classifier that reads this platform's failure codes.
    errors: ClassVar[str] = "http_status"

    def __init__(self, api: ApiClient, endpoint: Endpoint) -> None:
        self.api = api
        self.endpoint = endpoint
        self.options = endpoint.write.options if endpoint.write else {}

    @abstractmethod
    def upsert(
        self, records: Iterable[dict[str, Any]], key: str | None = None, *, dry_run: bool = False
    ) -> Iterator[WriteResult]:
        """Create or update each record by `key` (default: the endpoint's natural key)."""

    def classified(self, result: WriteResult) -> WriteResult:
        """The result, a failure with its class (`cartwire.resources.failures`)."""
        if not result.failed or result.error_class is not None:
            return result
        classify = registry().get(ERROR_CLASSIFIER, self.errors)
        return replace(result, error_class=classify(result.code))

    @abstractmethod
    def create(self, record: dict[str, Any]) -> WriteResult: ...

    @abstractmethod
    def update(self, id_: str, record: dict[str, Any]) -> WriteResult: ...

    @abstractmethod
    def delete(self, id_: str) -> WriteResult: ...
