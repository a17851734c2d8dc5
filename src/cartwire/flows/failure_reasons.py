"""Why a run or a record failed, as one of a few kinds a person can act on without reading a
traceback: fix the setup (`configuration`), wait and retry (`transient`, `conflict`), fix the
record at its source (`data`), or report a bug (`internal`).

A record's kind comes from its platform's error classifier (`WriteResult.error_class`); a run's
from the exception that ended it, or, when its records failed, from the most common kind among
them (`store.runs.finish`). Only the kinds a later try can mend are `retryable`.
"""

from collections.abc import Mapping
from typing import Literal

import httpx

from cartwire.auth.errors import AuthError, AuthUnreachable
from cartwire.connectors import ConnectorError
from cartwire.flows.problems import FlowError
from cartwire.http.errors import ApiError, Conflict, RateLimited, ServerError, Unreachable
from cartwire.http.paging import IncompleteRead
from cartwire.resources.failures import ErrorClass
from cartwire.store.errors import StoreError

Kind = Literal["configuration", "transient", "data", "conflict", "internal"]
# Most in need of a person first: the order ties are broken in.
KINDS: tuple[Kind, ...] = ("configuration", "data", "internal", "conflict", "transient")
RETRYABLE: frozenset[str] = frozenset({"transient", "conflict"})

# What a person does about each kind, as every shell says it.
ADVICE: dict[str, str] = {
    "configuration": "the setup is wrong (credentials, scopes, lookups): change it, then run again",
    "transient": "the platform was busy or did not answer: retrying should mend it",
    "data": "the platform refused records on their merits: fix them at the source, then retry",
    "conflict": "someone else wrote the same records meanwhile: retrying should mend it",
    "internal": "a fault in cartwire itself: please report it with the run's log",
}

_OF_CLASS: dict[ErrorClass, Kind] = {
    "transient": "transient",
    "conflict": "conflict",
    "configuration": "configuration",
    "permanent": "data",
}


def retryable(kind: str | None) -> bool | None:
    """Whether another try may mend a failure of this kind; None for no failure."""
    return None if kind is None else kind in RETRYABLE


def of_write(error_class: ErrorClass | None) -> Kind:
    """A record the destination refused; one without a class (a mapping that failed before
    anything was sent) is the record's data."""
    return "data" if error_class is None else _OF_CLASS[error_class]


def of_exception(exc: BaseException) -> Kind:
    """The exception that ended a run. Checked most specific first: an auth host that did not
    answer is transient, any other auth failure is the credentials'."""
    if isinstance(exc, AuthUnreachable | Unreachable | RateLimited | ServerError | IncompleteRead):
        return "transient"
    if isinstance(exc, httpx.TransportError):
        return "transient"
    if isinstance(exc, Conflict):
        return "conflict"
    if isinstance(exc, AuthError | FlowError | ConnectorError | StoreError):
        return "configuration"
    if isinstance(exc, ApiError):  # 401/403 (access), 404 (an endpoint or id the setup names)
        return "data" if exc.status in (400, 422) else "configuration"
    return "internal"


def describe(exc: BaseException) -> str:
    """An exception as a run's error: its type, then its message (which never holds a secret:
    the engine's exceptions quote codes and keys, not values)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def most_common(counted: Mapping[str, int]) -> Kind | None:
    """The run's kind from its records' kinds (kind: how many): the most frequent, ties going
    to the kind that needs a person first (the earlier in `KINDS`)."""
    best: Kind | None = None
    for kind in KINDS:  # a strict > keeps the earlier of two as frequent
        if counted.get(kind, 0) > (counted[best] if best else 0):
            best = kind
    return best
