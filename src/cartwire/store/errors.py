"""The store's exceptions.

Callers (the CLI, the engine) catch `StoreError` to turn any persistence failure into a clean
message, so every exception raised on purpose here derives from it. Messages name instances and
columns but never carry a secret value, because they end up in terminals and logs.
"""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

P = ParamSpec("P")
R = TypeVar("R")


class StoreError(Exception):
    """Base class for every failure the store reports on purpose."""


class InstanceExists(StoreError):
    """An instance with this name is already stored; names are how users refer to instances."""

    def __init__(self, name: str) -> None:
        super().__init__(f"an instance named {name!r} already exists")
        self.name = name


class InstanceNotFound(StoreError):
    """No instance with this name is stored."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no instance named {name!r}; see `cartwire instances list`")
        self.name = name


class NameTaken(StoreError):
    """An API key or user of this name is already stored; names are how people refer to them."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} named {name!r} already exists")
        self.kind = kind
        self.name = name


class PoolNotFound(StoreError):
    """No size is stored for a concurrency pool with this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no pool named {name!r}")
        self.name = name


class DecryptError(StoreError):
    """An encrypted value could not be decrypted with any key of the keyring.

    This almost always means the wrong key is configured, so the message says where the keys
    came from and which stored value failed, never what the value was.
    """

    def __init__(self, *, column: str, instance: str | None, key_source: str) -> None:
        owner = f" of instance {instance!r}" if instance is not None else ""
        super().__init__(
            f"cannot decrypt {column}{owner}: none of the keys from {key_source} fits; "
            "check CARTWIRE_SECRET_KEY or the secret.key file in the cartwire data directory"
        )
        self.column = column
        self.instance = instance
        self.key_source = key_source


class InvalidRecord(StoreError, ValueError):
    """A record or value the store refuses to write (it is also a ValueError: the caller's bug)."""


def driver_reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line (parameters are hidden by the engine), for user messages."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def database_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Report driver failures (locked, unreachable, ...) as StoreError, which callers handle.

    Only the driver's first line is kept: PostgreSQL's DETAIL lines can quote a whole row.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {driver_reason(exc)}") from exc

    return wrapper
