"""The paginator protocol: how to get from one page of a collection to the next.

Modelled on dlt's paginators: a small stateful object per read that sets the first request's
parameters, then, after each page, moves the request on or says the walk is over. Its `state`
can be saved and restored, so a flow can checkpoint mid-collection and resume there.
"""

from abc import ABC, abstractmethod
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from cartwire.connectors.schema import Endpoint, Paging

Params = dict[str, Any]  # query parameters; a list value repeats the parameter


class IncompleteRead(RuntimeError):
    """The walk saw fewer records than it should have, or pages out of order: never a silent
    partial result."""


@dataclass
class PageRequest:
    """What to ask for next: query parameters, and a URL when the platform hands one out."""

    params: Params = field(default_factory=dict)
    url: str | None = None


def dig(body: Any, path: str | None) -> Any:
    """The value at a dotted path (`links.next`, `meta.record_count`); None when absent."""
    if not path:
        return body
    value = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Paginator(ABC):
    name: ClassVar[str]

    def __init__(self, endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> None:
        self.endpoint = endpoint
        self.paging = paging
        self.options = paging.options
        self.since = since
        self.page_size = paging.page_size

    def option(self, key: str, default: Any) -> Any:
        return self.options.get(key, default)

    @abstractmethod
    def first(self, request: PageRequest) -> None:
        """Set the parameters of the first page."""

    @abstractmethod
    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        """Move `request` to the next page; False when this page was the last."""

    def total(self, body: Any) -> int | None:
        """The collection's size when the platform says it (for progress and ETA)."""
        return None

    def records(self, body: Any) -> list[dict[str, Any]]:
        """The page's records: the list at the endpoint's data path. A platform's paginator may
        reshape them (e.g. flatten JSON:API resources into plain records)."""
        found = dig(body, self.endpoint.data_path)
        if not isinstance(found, list):
            where = self.endpoint.data_path or "the top"
            raise IncompleteRead(f"endpoint {self.endpoint.name!r}: no list of records at {where}")
        return found

    def by_ids(self, ids: Sequence[str]) -> Params | None:
        """Query parameters narrowing a walk to the records with these primary keys, added to
        the read's own filters (a record must match both): how a retry reads again, as they are
        now, the records a run failed on. None (the default) where the platform's query
        language is not known, as for the generic strategies."""
        return None

    @classmethod
    def reads_by_id(cls) -> bool:
        """Whether `by_ids` can narrow this strategy's walks (checked before a retry starts)."""
        return cls.by_ids is not Paginator.by_ids

    def state(self) -> dict[str, Any]:
        """Enough to resume the walk after the last page read (a checkpoint): where the next
        page starts, or `{"done": True}` after the last page (the reader then reads nothing)."""
        return {}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        """Continue from a saved `state` instead of the first page."""
        raise NotImplementedError(f"{self.name} paging cannot resume mid-walk")

    # -- concurrent reads (optional) -----------------------------------------------------------

    def split(
        self, request: PageRequest, records: list[dict[str, Any]], parts: int
    ) -> list["Paginator"]:
        """Cut the rest of this walk into up to `parts` walks that may run at the same time.

        Called between pages, after `advance` returned True (`records` is the page just read):
        this walk narrows itself and `request` to the first part, and the others come back as
        paginators whose `state()` says where each starts (the reader `restore`s a request from
        it). Together they must read exactly the records this walk had left. [] (the default)
        when the walk cannot be cut.
        """
        return []

    def cut(
        self, request: PageRequest, parts: int, least: int
    ) -> Generator[PageRequest, Any, list["Paginator"]]:
        """Cut a whole walk, before its first page, into up to `parts` walks of at least
        `least` records each, read as shards of one run. A generator in the manner of httpx's
        `Auth.auth_flow`: it yields the requests whose answers it needs (how many records
        there are, where to cut), is sent each answer's body, and returns the other walks
        (this one narrowed to the first part, as `split`). Without asking anything (the
        default), it cuts as `split` does, whatever the size; [] when the walk stays whole.
        """
        yield from ()
        return self.split(request, [], parts)

    def probe(self, request: PageRequest) -> PageRequest | None:
        """For walks whose cut points only the server knows: a request whose answer says where
        to cut the rest of this walk in two (`split_at`); None (the default) for no probe.
        Called between pages, after `advance` returned True, before `split`.
        """
        return None

    def split_at(self, request: PageRequest, body: Any) -> "Paginator | None":
        """Cut the rest of this walk where the `probe`'s answer `body` says: like `split`, with
        one new part. None when the answer allows no cut."""
        return None

    def remaining(self) -> int | None:
        """How many records this walk has still to read, when the platform said."""
        return None

    def read_state(self) -> dict[str, Any]:
        """What describes the whole read rather than one walk of it (e.g. the time up to which
        an incremental read is complete); a concurrent read keeps it in every checkpoint."""
        return {}
