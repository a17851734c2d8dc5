"""Commerce Layer's own paging strategies (facts §3, §7.1).

Every page is a JSON:API document; its resources come out flattened
(`cartwire.resources.jsonapi`: `id`, `type`, attributes at the top level, linked relationships by
name, `included` resolved).

- `cl_page_number`: `page[number]`/`page[size]` (at most 25), totals from `meta.record_count`
  and the end from `meta.page_count`. Simple, but an offset walk skips or repeats records
  when the collection changes under it: for small, stable collections only.
- `cl_id_keyset`: the official `retrieveAll` walk (sdk-utils `src/all.ts`): `sort=id`,
  `page[size]=25`, `page[number]=1`, and `filter[q][id_gt]=<last id>` from the second page on.
  Each page's `meta.record_count` counts what is left (the filter moves), so the walk knows its
  total after one page, stops without asking for an empty page, and fails loudly when a short
  page claims more records exist.
- `cl_updated_keyset` (incremental): the same id walk over the records with
  `since <= updated_at < until`, where `until` is "now" minus a lag, fixed when the walk starts.
  Records sharing one `updated_at` are no problem at all: the cursor is the id, never the time,
  so there is no (updated_at, id) tuple comparison to emulate (Ransack has none). A record
  updated during the walk moves past `until` and is read by the next run, which starts at this
  run's `until` (`read_state()`): every version is read once, none is lost between runs. The
  lag covers clock skew and writes committed late.

Concurrency (`probe`/`split_at`): a walk is cut into id ranges, `id_gteq`/`id_lt`, each walked by
its own cursor. Where to cut is asked of the server, never computed: the probe is the walk's
next request with `page[size]=1` and `page[number]` half of what it has left, and the id it
answers is inside the walk's range by construction, whatever the ids look like or however the
server orders them. Id ranges are the cheapest filter a database has (a primary-key range), and
cutting between pages keeps the cursor, so both parts continue after the records already read.
"""

from collections.abc import Generator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator, dig
from cartwire.http.paging.generic import PageNumber
from cartwire.resources.reader import flattened

MAX_PAGE_SIZE = 25
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _page_size(endpoint: Endpoint, paging: Paging) -> int:
    size = paging.page_size or MAX_PAGE_SIZE
    if size > MAX_PAGE_SIZE:
        raise ValueError(
            f"endpoint {endpoint.name!r}: Commerce Layer pages hold at most {MAX_PAGE_SIZE} "
            f"records (page_size {size})"
        )
    return size


def q(predicate: str) -> str:
    """The query parameter of a Ransack predicate, e.g. `q("id_gt")` → `filter[q][id_gt]`."""
    return f"filter[q][{predicate}]"


def to_ms(value: Any) -> int | None:
    """Milliseconds since the epoch of a Commerce Layer time (`2024-01-01T12:00:00.000Z`)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def iso_ms(ms: int) -> str:
    """The instant as Commerce Layer writes times: UTC, milliseconds, `Z`."""
    moment = _EPOCH + ms * _MS
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _instant_ms(moment: datetime) -> int:
    """A datetime (naive means UTC) as ms, rounded down."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


class JsonApiPaginator(Paginator):
    """Pages are JSON:API documents; records are their flattened resources."""

    def records(self, body: Any) -> list[dict[str, Any]]:
        return flattened(self.endpoint, body)

    def by_ids(self, ids: Sequence[str]) -> dict[str, Any]:
        """`filter[q][id_in]` (Commerce Layer ids hold no comma)."""
        return {q("id_in"): ",".join(ids)}


class ClPageNumber(JsonApiPaginator, PageNumber):
    """`page[number]`/`page[size]` with Commerce Layer's meta (see the module docstring)."""

    name = "cl_page_number"
    _DEFAULTS = {
        "page_param": "page[number]",
        "size_param": "page[size]",
        "total_path": "meta.record_count",
        "page_count_path": "meta.page_count",
    }

    def __init__(self, endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> None:
        super().__init__(endpoint, paging, since)
        self.page_size = _page_size(endpoint, paging)

    def option(self, key: str, default: Any) -> Any:
        return self.options.get(key, self._DEFAULTS.get(key, default))


class ClIdKeyset(JsonApiPaginator):
    """`sort=id` + `filter[q][id_gt]`, optionally inside an id range (module docstring)."""

    name = "cl_id_keyset"

    def __init__(self, endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> None:
        super().__init__(endpoint, paging, since)
        self.size = self.page_size = _page_size(endpoint, paging)
        self.lo: str | None = None  # the range: id >= lo …
        self.hi: str | None = None  # … and id < hi
        self.after: str | None = None  # the last id read
        self.done = False
        self._remaining: int | None = None
        self._seen = 0
        self._total: int | None = None

    # -- the request -----------------------------------------------------------------------------

    def _owned(self) -> tuple[str, ...]:
        """Parameters this walk sets; the user's filters may not set them too."""
        return ("sort", "page[number]", "page[size]", q("id_gt"))

    def _bounds(self) -> tuple[tuple[str, str, str], ...]:
        """(predicate, attribute, label) of the bounds a user's filter may set."""
        return (("id_gteq", "lo", "id"), ("id_lt", "hi", "id"))

    def _filters(self) -> dict[str, str | None]:
        return {
            q("id_gteq"): self.lo if self.after is None else None,
            q("id_lt"): self.hi,
            q("id_gt"): self.after,
        }

    def _apply(self, request: PageRequest) -> None:
        params = request.params
        params["sort"] = "id"
        params["page[number]"] = 1  # the official SDK always sends it ("load balancer")
        params["page[size]"] = self.size
        for key, value in self._filters().items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value

    def first(self, request: PageRequest) -> None:
        clash = sorted(set(request.params) & set(self._owned()))
        for predicate, bound, _ in self._bounds():  # the user's own bounds become the walk's
            given = request.params.pop(q(predicate), None)
            if given is not None and getattr(self, bound) is not None:
                clash.append(q(predicate))
            elif given is not None:
                setattr(self, bound, str(given))
        if clash:
            raise ValueError(
                f"endpoint {self.endpoint.name!r}: {', '.join(clash)} is set by the "
                f"{self.name} walk and cannot be given as a filter"
            )
        self._apply(request)

    # -- pages -----------------------------------------------------------------------------------

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        count = dig(body, "meta.record_count")
        read = len(records)
        if isinstance(count, int):
            if read < self.size and count > read:
                raise IncompleteRead(
                    f"endpoint {self.endpoint.name!r}: a page of {read} records said "
                    f"{count} were left (after id {self.after!r})"
                )
            self._remaining = max(count - read, 0)
            self._total = self._seen + count
        self._seen += read
        if records:
            last = records[-1].get("id")
            if not isinstance(last, str) or not last:
                raise IncompleteRead(f"endpoint {self.endpoint.name!r}: a record without an id")
            self.after = last  # also after the last page: a resume from it reads nothing again
        if read < self.size or self._remaining == 0:
            self.done = True
            return False
        self._apply(request)
        return True

    def total(self, body: Any) -> int | None:
        return self._total

    def remaining(self) -> int | None:
        return self._remaining

    def state(self) -> dict[str, Any]:
        """Where the next page starts: after `after`, within `lo` <= id < `hi`."""
        position = {"lo": self.lo, "hi": self.hi, "after": self.after}
        return {**position, "done": True} if self.done else position

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.lo = self.hi = None  # the state's range replaces any other
        self.first(request)
        self.lo, self.hi, self.after = state.get("lo"), state.get("hi"), state.get("after")
        self._apply(request)

    # -- concurrency -------------------------------------------------------------------------

    def probe(self, request: PageRequest) -> PageRequest | None:
        """The record half-way through what is left (module docstring)."""
        min_pages = int(self.option("min_pages_per_walk", 4))
        if self._remaining is None or self._remaining < 2 * min_pages * self.size:
            return None
        middle = self._remaining // 2
        return PageRequest({**request.params, "page[size]": 1, "page[number]": middle + 1})

    def split_at(self, request: PageRequest, body: Any) -> Paginator | None:
        cut = self._found_id(body)
        if cut is None or cut == self.after:
            return None
        return self._cut_at(request, [cut])[0]

    def cut(
        self, request: PageRequest, parts: int, least: int
    ) -> Generator[PageRequest, Any, list[Paginator]]:
        """Shards of a whole walk, cut where the server says: one request for how many
        records the walk has (`page[size]=1`, `meta.record_count`, as the SDK's `count()`),
        then one per cut for the record a part's length past the previous cut (`id_gt` it),
        so each cut follows the one before in the server's own order, even while records
        are added or removed meanwhile."""
        if parts < 2:
            return []
        count = dig((yield self._one(request.params, 1)), "meta.record_count")
        if not isinstance(count, int) or isinstance(count, bool):
            return []
        parts = min(parts, count // max(least, 1))
        cuts: list[str] = []
        for _ in range(parts - 1):
            step = count // parts
            params = request.params if not cuts else {**request.params, q("id_gt"): cuts[-1]}
            cut = self._found_id((yield self._one(params, step + 1 if not cuts else step)))
            if cut is None:
                break
            cuts.append(cut)
        return self._cut_at(request, cuts) if cuts else []

    @staticmethod
    def _one(params: dict[str, Any], number: int) -> PageRequest:
        """The walk's request for just its `number`th record."""
        return PageRequest({**params, "page[size]": 1, "page[number]": number})

    def _found_id(self, body: Any) -> str | None:
        found = self.records(body)
        cut = found[0].get("id") if found else None
        return cut if isinstance(cut, str) and cut else None

    def _cut_at(self, request: PageRequest, cuts: list[str]) -> list[Paginator]:
        """This walk narrowed to before the first of `cuts` (ascending), and a walk for each
        range from one cut to the next (the last to this walk's end)."""
        children: list[Paginator] = []
        for lo, hi in zip(cuts, [*cuts[1:], self.hi], strict=True):
            child = type(self)(self.endpoint, self.paging, self.since)
            child.lo, child.hi = lo, hi
            self._inherit(child)
            children.append(child)
        self.hi = cuts[0]
        self._remaining = None  # no longer known for the shorter range
        self._apply(request)
        return children

    def _inherit(self, child: "ClIdKeyset") -> None:
        """What a part cut from this walk shares with it (subclasses: the time window)."""


class ClUpdatedKeyset(ClIdKeyset):
    """The id walk over `since <= updated_at < until` (module docstring)."""

    name = "cl_updated_keyset"

    def __init__(self, endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> None:
        super().__init__(endpoint, paging, since)
        lag = timedelta(seconds=float(self.option("lag_seconds", 2)))
        self.until: str = iso_ms(_instant_ms(datetime.now(UTC) - lag))
        self.from_: str | None = None if since is None else iso_ms(_instant_ms(since))

    def _bounds(self) -> tuple[tuple[str, str, str], ...]:
        return (*super()._bounds(), ("updated_at_gteq", "from_", "updated_at"))

    def _owned(self) -> tuple[str, ...]:
        return (*super()._owned(), q("updated_at_lt"))

    def _filters(self) -> dict[str, str | None]:
        window = {q("updated_at_gteq"): self.from_, q("updated_at_lt"): self.until}
        return {**super()._filters(), **window}

    def _inherit(self, child: "ClIdKeyset") -> None:
        assert isinstance(child, ClUpdatedKeyset)
        child.from_, child.until = self.from_, self.until

    def state(self) -> dict[str, Any]:
        return {**super().state(), "since": self.from_, "until": self.until}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.from_ = None  # the state's window replaces any other
        super().restore(request, state)
        self.from_ = state.get("since", self.from_)
        self.until = str(state.get("until", self.until))
        self._apply(request)

    def read_state(self) -> dict[str, Any]:
        """`until`: where the next incremental read starts (its `since`)."""
        return {"until": self.until}
