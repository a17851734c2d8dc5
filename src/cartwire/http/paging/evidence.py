"""When a generic walk may end: on evidence, never on a guess.

A short page looks like the end of a collection, but it is also what a server sends when it
ignores the page size asked for (and uses its own) or caps it: ending there is a silent
truncation (10 of 5,968 records, reported as success). So the generic walks end only on
evidence: the total or page count the server reports, an empty page, or a short page once the
server's own page size is known. A walk that would end before the reported total fails with
the numbers; a page size other than the one asked for is a warning naming both.

The total is read at the endpoint's `total_path` (page count: `page_count_path`) or, when the
option is absent, at the first of the well-known places below that holds a number: a connector
file need not say where a common API reports its size for the check to apply. An option set
to null switches the check off (for an API whose `total` means something else).
"""

import logging
from typing import Any

from cartwire.http.paging.base import IncompleteRead, dig

log = logging.getLogger("cartwire.http.paging")

TOTAL_PATHS = (
    "total",
    "total_count",
    "totalCount",
    "meta.total",
    "meta.total_count",
    "meta.totalCount",
    "meta.record_count",
    "meta.pagination.total",
    "pagination.total",
)
PAGE_COUNT_PATHS = (
    "total_pages",
    "totalPages",
    "page_count",
    "meta.page_count",
    "meta.total_pages",
    "meta.totalPages",
    "meta.pagination.total_pages",
    "pagination.total_pages",
)


class _Auto:
    """The marker of an option left out of the connector file (look in the usual places)."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()


class Reported:
    """A count the server reported: its value, where it was, and which option names the place."""

    def __init__(self, value: int, path: str, option: str, unit: str) -> None:
        self.value = value
        self.path = path
        self.option = option
        self.unit = unit

    def __str__(self) -> str:
        return f"{self.value:,} {self.unit} (at {self.path!r})"


def reported(body: Any, configured: Any, option: str, unit: str) -> Reported | None:
    """The count at the `configured` path (AUTO: the usual places; None: never)."""
    if configured is None:
        return None
    usual = TOTAL_PATHS if option == "total_path" else PAGE_COUNT_PATHS
    paths = usual if configured is AUTO else (str(configured),)
    for path in paths:
        value = dig(body, path)
        if isinstance(value, int) and not isinstance(value, bool):
            return Reported(value, path, option, unit)
    return None


class Tally:
    """What one walk has read so far, kept in its checkpoints, so an end can be checked against
    the server's numbers even after a resume."""

    def __init__(self, endpoint: str, hint: str) -> None:
        self.endpoint = endpoint
        self.hint = hint  # which options of the connector file to look at, per strategy
        self.read: int | None = 0  # None: resumed from a checkpoint that did not count
        self.pages = 0
        self.size: int | None = None  # the server's page size, once a page showed it
        self.last: int | None = None  # records on the page before
        self.first_key: Any = None  # of the page before: a server ignoring `page` repeats it
        self.warned = False

    def count(self, records: list[Any]) -> int | None:
        """Count a page in; the number of records on the page before it."""
        before, self.last = self.last, len(records)
        self.pages += 1
        if self.read is not None:
            self.read += len(records)
        return before

    def state(self) -> dict[str, Any]:
        return {"read": self.read, "pages": self.pages, "size": self.size, "last": self.last}

    def restore(self, state: dict[str, Any]) -> None:
        self.read = state.get("read")
        self.pages = int(state.get("pages", 0))
        self.size = state.get("size")
        self.last = state.get("last")

    def _of(self, total: Reported | None) -> str:
        read = "an unknown number of" if self.read is None else f"{self.read:,}"
        of = f" of the {total}" if total is not None else ""
        return f"{read} record(s){of} in {self.pages} page(s)"

    def short(self, reported: Reported, sent: str) -> IncompleteRead:
        """The walk would end before the server's total or page count."""
        return IncompleteRead(
            f"endpoint {self.endpoint!r}: the walk would end after {self._of(None)}, but the "
            f"server reports {reported}; the last request sent {sent}. {self.hint} If "
            f"{reported.path!r} is not the collection's {reported.unit}, set paging.options."
            f"{reported.option} to where the server reports it (or to null)."
        )

    def same_page(
        self, records: list[Any], key: str, param: str, sent: str, total: Reported | None
    ) -> None:
        """Fail when this page (not counted in yet) starts with the record the page before
        started with: the server ignores the parameter that should have moved it on, and would
        serve that page forever."""
        first = records[0].get(key) if records and isinstance(records[0], dict) else None
        before, self.first_key = self.first_key, first
        if first is None or first != before:
            return
        raise IncompleteRead(
            f"endpoint {self.endpoint!r}: page {self.pages + 1} ({sent}) returned the same records "
            f"as the page before it (first {key} {first!r}): the server ignores {param!r}. "
            f"Read {self._of(total)}. {self.hint}"
        )

    def check_size(self, asked: int | None, got: int, param: str | None, option: str) -> None:
        """Warn, once a walk, of a page (not the last) holding other than the size asked for."""
        if self.warned or asked is None or param is None or got == asked:
            return
        self.warned = True
        log.warning(
            "endpoint %r: asked for %d records a page (%s=%d) but the server returned %d: it "
            "ignores or caps %r. Reading on in its pages; if it names its page size parameter "
            "otherwise (e.g. page[size]), set paging.options.%s in the connector file, or a "
            "page_size of at most %d to ask for what it serves.",
            self.endpoint,
            asked,
            param,
            asked,
            got,
            param,
            option,
            got,
        )
