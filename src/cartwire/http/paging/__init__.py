"""Paging strategies by the names connector files use for them (`cartwire.platforms.registry`)."""

from datetime import datetime

from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator, dig
from cartwire.platforms.registry import PAGINATOR, UnknownName, registry


def paginator_for(endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> Paginator:
    try:
        cls = registry().get(PAGINATOR, paging.strategy)
    except UnknownName as exc:
        raise ValueError(f"endpoint {endpoint.name!r}: {exc}") from None
    return cls(endpoint, paging, since)


def reads_by_id(paging: Paging) -> bool:
    """Whether a walk with this paging can be narrowed to records by id (`Paginator.by_ids`)."""
    known = registry()
    return (
        paging.strategy in known.names(PAGINATOR)
        and known.get(PAGINATOR, paging.strategy).reads_by_id()
    )


__all__ = [
    "IncompleteRead",
    "PageRequest",
    "Paginator",
    "dig",
    "paginator_for",
    "reads_by_id",
]
