"""Paging strategies by name, as connector files refer to them."""

from datetime import datetime

from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator, dig
from cartwire.http.paging.generic import CursorToken, LimitOffset, LinkHeader, NextUrl, PageNumber
from cartwire.platforms.commercelayer import paging as commercelayer
from cartwire.platforms.commercetools import paging as commercetools

PAGINATORS: dict[str, type[Paginator]] = {}


def register(cls: type[Paginator]) -> type[Paginator]:
    """Make a paginator available to connector files under its `name`."""
    PAGINATORS[cls.name] = cls
    return cls


_BUILT_IN: tuple[type[Paginator], ...] = (
    LimitOffset,
    PageNumber,
    NextUrl,
    LinkHeader,
    CursorToken,
    *commercetools.PAGINATORS,
    *commercelayer.PAGINATORS,
)
for _cls in _BUILT_IN:
    register(_cls)


def paginator_for(endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> Paginator:
    cls = PAGINATORS.get(paging.strategy)
    if cls is None:
        known = ", ".join(sorted(PAGINATORS))
        raise ValueError(
            f"endpoint {endpoint.name!r}: unknown paging strategy {paging.strategy!r} "
            f"(known: {known})"
        )
    return cls(endpoint, paging, since)


def reads_by_id(paging: Paging) -> bool:
    """Whether a walk with this paging can be narrowed to records by id (`Paginator.by_ids`)."""
    cls = PAGINATORS.get(paging.strategy)
    return cls is not None and cls.reads_by_id()


__all__ = [
    "PAGINATORS",
    "IncompleteRead",
    "PageRequest",
    "Paginator",
    "dig",
    "paginator_for",
    "reads_by_id",
    "register",
]
