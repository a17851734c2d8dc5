"""commercetools's own paging strategies: keysets, never offsets.

commercetools refuses offsets above 10,000, so every walk here moves a cursor instead (the
official SDK's `process()` does the same for full reads): sort by a unique key, ask for the
records after the last one seen, stop on a short page. Both walks check the order of what comes
back — a page that does not start after the cursor, or is not sorted, means the server and the
cursor disagree, and the read fails (`IncompleteRead`) instead of quietly skipping or repeating
records.

The user's own `where` predicates (and `var.*` predicate variables) stay on every request; the
cursor's predicate is one more `where`, which commercetools combines with the others by AND.
"""

import json
from collections.abc import Generator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator

MAX_PAGE = 500  # commercetools' maximum `limit`
MAX_OFFSET = 10_000  # and `offset`, to which a `total` under a predicate is capped


def in_predicate(field: str, values: Sequence[str], variable: str = "cwValues") -> dict[str, Any]:
    """Query parameters matching `field` against `values`.

    Plain values go into the predicate text (readable in logs, answered from an index); a value
    with a quote or a backslash goes in as a predicate variable instead, so nothing is ever
    escaped by hand."""
    if any('"' in v or "\\" in v for v in values):
        return {"where": [f"{field} in :{variable}"], f"var.{variable}": list(values)}
    quoted = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
    return {"where": [f"{field} in ({quoted})"]}


def _wheres(params: dict[str, Any]) -> list[str]:
    """The `where` predicates already on the request, as a list (the parameter may repeat)."""
    value = params.get("where")
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def instant_text(moment: datetime) -> str:
    """A commercetools date-time: UTC, milliseconds, `Z` (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _instant(value: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise IncompleteRead(f"{what} {value!r} is not a date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Keyset(Paginator):
    """What both walks share: page size, the fixed parameters, the page-size stop rule."""

    sort: tuple[str, ...]

    def _setup(self, request: PageRequest) -> None:
        self.limit = min(self.page_size or MAX_PAGE, MAX_PAGE)
        self.user_wheres = _wheres(request.params)
        self.left: int | None = None
        # The total only on a walk's first page: it costs the platform a count, and the rest
        # follows from the pages read.
        request.params.update(limit=self.limit, withTotal="true", sort=list(self.sort))

    def _count(self, request: PageRequest, body: Any, records: list[Any]) -> None:
        """Learn from the first page how many records the walk has, then count them down.

        A total under a predicate is capped at the maximum offset (facts: PagedQueryResponse),
        so a capped one says nothing."""
        if request.params.get("withTotal") == "true":
            request.params["withTotal"] = "false"
            total = body.get("total") if isinstance(body, dict) else None
            capped = "where" in request.params and total == MAX_OFFSET
            if isinstance(total, int) and not isinstance(total, bool) and not capped:
                self.left = total
        if self.left is not None:
            self.left = max(self.left - len(records), 0)

    def remaining(self) -> int | None:
        return self.left

    def _short(self, body: Any, records: list[Any]) -> bool:
        """A page shorter than the limit the server applied is the last one."""
        served = body.get("limit") if isinstance(body, dict) else None
        limit = min(self.limit, served) if isinstance(served, int) and served > 0 else self.limit
        return len(records) < limit

    def by_ids(self, ids: Sequence[str]) -> dict[str, Any]:
        return in_predicate("id", ids, "cwIds")

    def _where(self, request: PageRequest, cursor: list[str]) -> None:
        """The user's predicates and the cursor's, each its own `where` (ANDed)."""
        wheres = [*self.user_wheres, *cursor]
        if wheres:
            request.params["where"] = wheres
        else:
            request.params.pop("where", None)


class IdKeyset(_Keyset):
    """Full reads: `sort=id asc`, then `where=id > "<last id>"` after each page.

    A walk may be cut for a concurrent read (`split`): commercetools ids are random UUIDs, so
    the rest of the id range, from the cursor to the walk's end, is cut into equal ranges by
    their leading hex digits, each walked on its own with `id >= "<start>"` and
    `id < "<end>"` added to the cursor.
    """

    name = "ct_id_keyset"
    sort = ("id asc",)

    def first(self, request: PageRequest) -> None:
        self._setup(request)
        self.after: str | None = None  # the last id read (exclusive lower bound)
        self.start: str | None = None  # where a walk cut from another begins (inclusive)
        self.before: str | None = None  # where a cut walk ends (exclusive)
        self.done = False
        self._where(request, self._cursor())

    def _cursor(self) -> list[str]:
        bounds = []
        if self.after is not None:
            bounds.append(f'id > "{self.after}"')
        elif self.start is not None:
            bounds.append(f'id >= "{self.start}"')
        if self.before is not None:
            bounds.append(f'id < "{self.before}"')
        return bounds

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        self._count(request, body, records)
        # After the cursor (or from a cut walk's start), ascending, before a cut walk's end.
        previous, inclusive = (self.after, False) if self.after else (self.start, True)
        for record in records:
            key = record.get("id") if isinstance(record, dict) else None
            if (
                not isinstance(key, str)
                or (previous is not None and (key < previous if inclusive else key <= previous))
                or (self.before is not None and key >= self.before)
            ):
                raise IncompleteRead(
                    f"{self.endpoint.name}: record id {key!r} does not follow {previous!r}; "
                    "the server's order disagrees with the id cursor"
                )
            previous, inclusive = key, False
        self.after = previous if records else self.after
        if self._short(body, records):
            self.done = True
            return False
        self._where(request, self._cursor())
        return True

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"after_id": self.after}
        if self.after is None and self.start is not None:
            state = {"from_id": self.start}
        if self.before is not None:
            state["before_id"] = self.before
        return {**state, "done": True} if self.done else state

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.after = state.get("after_id")
        self.start = state.get("from_id")
        self.before = state.get("before_id")
        self._where(request, self._cursor())

    def split(
        self, request: PageRequest, records: list[dict[str, Any]], parts: int
    ) -> list[Paginator]:
        low = _hex_position(self.after or self.start)
        high = _hex_position(self.before) if self.before is not None else ID_SPACE
        if parts < 2 or low is None or high is None:
            return []
        low += 1  # ids from the cursor's leading digits + 1: all above the cursor
        if high - low < parts:
            return []
        cuts = [f"{low + (high - low) * k // parts:08x}" for k in range(1, parts)]
        children: list[Paginator] = []
        for start, end in zip(cuts, [*cuts[1:], self.before], strict=True):
            child = IdKeyset(self.endpoint, self.paging, self.since)
            child.after, child.start, child.before, child.done = None, start, end, False
            children.append(child)
        self.before = cuts[0]
        self.left = None  # no longer known for the shorter range
        self._where(request, self._cursor())
        return children

    def cut(
        self, request: PageRequest, parts: int, least: int
    ) -> Generator[PageRequest, Any, list[Paginator]]:
        """As `split`, into no more parts than hold `least` records each: one request first,
        for the walk's `total` (a total capped under a predicate means "at least that many")."""
        if parts < 2:
            return []
        body = yield PageRequest({**request.params, "limit": 1, "withTotal": "true"})
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(total, int) or isinstance(total, bool):
            return []
        capped = "where" in request.params and total == MAX_OFFSET
        if not capped:
            parts = min(parts, total // max(least, 1))
        return self.split(request, [], parts)


ID_SPACE = 16**8  # the values of an id's leading 8 hex digits


def _hex_position(key: str | None) -> int | None:
    """An id's leading 8 hex digits as a number (0 for no id); None if they are not hex."""
    if key is None:
        return 0
    head = key[:8]
    return int(head, 16) if len(head) == 8 and all(c in HEX for c in head) else None


HEX = frozenset("0123456789abcdef")


class ModifiedKeyset(_Keyset):
    """Incremental reads: `sort=lastModifiedAt asc&sort=id asc`, cursor `(t, id)`.

    The first page asks for `lastModifiedAt >= :t` with `var.t` = `since` (or for everything
    without `since`); each later one for `lastModifiedAt > :t or (lastModifiedAt = :t and id >
    :id)`, so any number of records sharing one timestamp are read completely and exactly once.
    The cursor's values travel as predicate variables (`var.t`, `var.id`), never spliced into
    the predicate text.
    """

    name = "ct_modified_keyset"
    sort = ("lastModifiedAt asc", "id asc")
    AFTER = "lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)"
    FROM = "lastModifiedAt >= :t"

    def first(self, request: PageRequest) -> None:
        taken = sorted(k for k in ("var.t", "var.id") if k in request.params)
        if taken:
            raise ValueError(
                f"{self.endpoint.name}: {', '.join(taken)} is used by the incremental cursor; "
                "give your predicate variables other names"
            )
        self._setup(request)
        self.field = str(self.endpoint.updated_at or "lastModifiedAt")
        self.after: tuple[str, str] | None = None
        self.done = False
        self._from_since(request)

    def _from_since(self, request: PageRequest) -> None:
        if self.since is None:
            self._where(request, [])
            return
        request.params["var.t"] = instant_text(self.since)
        self._where(request, [self.FROM])

    def _after(self, request: PageRequest) -> None:
        assert self.after is not None
        request.params["var.t"], request.params["var.id"] = self.after
        self._where(request, [self.AFTER])

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        self._count(request, body, records)
        cursor = self.after
        for record in records:
            stamp = record.get(self.field) if isinstance(record, dict) else None
            key = record.get("id") if isinstance(record, dict) else None
            if not isinstance(stamp, str) or not isinstance(key, str):
                raise IncompleteRead(f"{self.endpoint.name}: a record without {self.field} or id")
            if cursor is not None and (_instant(stamp, self.field), key) <= (
                _instant(cursor[0], "cursor"),
                cursor[1],
            ):
                raise IncompleteRead(
                    f"{self.endpoint.name}: record ({stamp}, {key}) does not follow "
                    f"({cursor[0]}, {cursor[1]}); the server's order disagrees with the cursor"
                )
            cursor = (stamp, key)
        self.after = cursor
        if self._short(body, records):
            self.done = True
            return False
        self._after(request)
        return True

    def state(self) -> dict[str, Any]:
        if self.after is None:
            state: dict[str, Any] = {"since": instant_text(self.since) if self.since else None}
        else:
            state = {"after_t": self.after[0], "after_id": self.after[1]}
        return {**state, "done": True} if self.done else state

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        if state.get("after_t") is not None and state.get("after_id") is not None:
            self.after = (str(state["after_t"]), str(state["after_id"]))
            self._after(request)
        elif state.get("since"):
            self.since = datetime.fromisoformat(state["since"])
            self._from_since(request)
