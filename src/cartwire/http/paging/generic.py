"""The generic paging methods Patchworks offers, so a user-written connector file can use them:
limit-offset, page number, next-page URL, link header and cursor token.

Each keeps, as its `state`, where the *next* page starts (`{"done": True}` once the last page was
read) and what the walk has read so far, so a walk resumed from any page's checkpoint reads every
remaining record exactly once and still checks its end. A server that hands out the same page
twice would loop forever; that fails instead. When a walk may end is `evidence`'s rule: never on
a short page alone while the server's page size is unknown or its total says there is more.

Options (under `paging.options` in a connector file; docs/connectors.md says what each sends):
- limit_offset: `limit_param` (limit), `offset_param` (offset), `start` (0), `total_path`,
  `max_offset` (the highest offset the API accepts; a collection that needs more fails loudly).
- page_number: `page_param` (page), `size_param` (page_size), `base_page` (1), `total_path`,
  `page_count_path`.
- next_url: `next_path` (links.next), `size_param`, `total_path`.
- link_header: `rel` (next), `size_param`, `total_path`.
- cursor: `cursor_path` (next_cursor), `cursor_param` (cursor), `size_param` (limit),
  `total_path`.
An option not listed for the strategy is refused before the first request: a misspelt
`size_parm` would otherwise be ignored, and the walk read in the server's terms.
"""

from abc import abstractmethod
from datetime import datetime
from typing import Any, ClassVar

import httpx

from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator, dig
from cartwire.http.paging.evidence import AUTO, Reported, Tally, reported

DONE: dict[str, Any] = {"done": True}


class _Generic(Paginator):
    """What the generic strategies share: the options they accept, the server's total, the
    tally of what was read, and the finished flag."""

    known_options: ClassVar[frozenset[str]] = frozenset()
    # Which connector-file options to name when a walk ends short (see `Tally.short`).
    hint: ClassVar[str] = ""
    done = False

    def __init__(self, endpoint: Endpoint, paging: Paging, since: datetime | None = None) -> None:
        super().__init__(endpoint, paging, since)
        unknown = sorted(set(self.options) - self.known_options)
        if unknown:
            raise ValueError(
                f"endpoint {endpoint.name!r}: {self.name} paging has no option "
                f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(self.known_options))})"
            )
        self.tally = Tally(endpoint.name, self.hint)

    @property
    def size_param(self) -> str | None:
        """The query parameter that asks for a page size (None: the strategy sends none)."""
        return None

    @property
    def size_option(self) -> str:
        return "size_param"

    def param_names(self) -> list[str]:
        """The query parameters this strategy sends, quoted when a walk fails."""
        return [self.size_param] if self.size_param else []

    def sent(self, response: httpx.Response) -> str:
        params = response.request.url.params
        shown = [f"{name}={params[name]}" for name in self.param_names() if name in params]
        return ", ".join(shown) or "no paging parameters"

    def reported_total(self, body: Any) -> Reported | None:
        if self.tally.read is None:
            return None
        return reported(body, self.option("total_path", AUTO), "total_path", "records")

    def total(self, body: Any) -> int | None:
        found = reported(body, self.option("total_path", AUTO), "total_path", "records")
        return found.value if found else None

    def _finish(self) -> bool:
        self.done = True
        return False

    def _with_tally(self, position: dict[str, Any]) -> dict[str, Any]:
        return DONE if self.done else {**position, **self.tally.state()}


class _Positional(_Generic):
    """Walks that say where the next page starts (an offset, a page number): only they can end
    early, because a short page is all they see of the end (`evidence`)."""

    def pages_reported(self, body: Any) -> Reported | None:
        """The page count the server reported; only page-number walks have one."""
        return None

    def page_index(self) -> int:
        """How many pages of the collection have been read, this one included."""
        return self.tally.pages

    @abstractmethod
    def move_param(self) -> str:
        """The parameter that moves the walk on (a server ignoring it repeats the first page)."""

    def ends(self, response: httpx.Response, body: Any, records: list[Any]) -> bool:
        """Whether this page was the last, counting it in: only on evidence (`evidence`)."""
        tally = self.tally
        sent = self.sent(response)
        total, pages = self.reported_total(body), self.pages_reported(body)
        tally.same_page(records, self.endpoint.primary_key, self.move_param(), sent, total)
        before = tally.count(records)
        asked = self.asked()
        if total is not None and tally.read is not None and tally.read >= total.value:
            return True
        if pages is not None and self.page_index() >= pages.value:
            if total is not None:
                raise tally.short(total, sent)
            return True
        evidence = total if total is not None else pages
        if evidence is not None:
            if not records:
                raise tally.short(evidence, sent)
            tally.check_size(asked, len(records), self.size_param, self.size_option)
            return False
        if not records:
            return True
        if tally.size is None:
            if asked is not None and len(records) >= asked:
                tally.size = asked
            elif before is None:
                return False  # a short first page: the next one says whether it was the end
            else:
                tally.size = before
                tally.check_size(asked, before, self.size_param, self.size_option)
        return len(records) < tally.size

    def asked(self) -> int | None:
        """The page size the request asked for."""
        return self.page_size


class LimitOffset(_Positional):
    """`limit`/`offset` parameters. With `max_offset` set, a walk that would pass it fails
    loudly instead of stopping early (the truncation dlt's `maximum_offset` does silently)."""

    name = "limit_offset"
    known_options = frozenset({"limit_param", "offset_param", "start", "total_path", "max_offset"})
    hint = (
        "If the server names its paging parameters differently, set paging.options.limit_param "
        "and offset_param for this endpoint in the connector file."
    )

    @property
    def size_param(self) -> str:
        return str(self.option("limit_param", "limit"))

    @property
    def size_option(self) -> str:
        return "limit_param"

    @property
    def _offset_param(self) -> str:
        return str(self.option("offset_param", "offset"))

    def param_names(self) -> list[str]:
        return [self.size_param, self._offset_param]

    def move_param(self) -> str:
        return self._offset_param

    def asked(self) -> int | None:
        return self.page_size or 100

    def first(self, request: PageRequest) -> None:
        self.offset = int(self.option("start", 0))
        request.params[self.size_param] = self.page_size or 100
        request.params[self._offset_param] = self.offset

    def _check_reachable(self, limit: int, total: int | None) -> None:
        ceiling = self.option("max_offset", None)
        if ceiling is None:
            return
        beyond = total is not None and total > int(ceiling) + limit
        if beyond or self.offset > int(ceiling):
            size = f"{total} records" if total is not None else f"more than {self.offset} records"
            raise IncompleteRead(
                f"endpoint {self.endpoint.name!r}: {size}, but offsets stop at {ceiling}; "
                "reading on would truncate the collection (use a keyset strategy or a filter)"
            )

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        limit = int(request.params[self.size_param])
        self.offset += len(records)
        if self.ends(response, body, records):
            return self._finish()
        self._check_reachable(limit, self.total(body))
        request.params[self._offset_param] = self.offset
        return True

    def state(self) -> dict[str, Any]:
        return self._with_tally({"offset": self.offset})

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.offset = int(state["offset"])
        self.tally.restore(state)
        request.params[self._offset_param] = self.offset


class PageNumber(_Positional):
    """`page`/`page_size` parameters; stops at the server's total or page count, on an empty
    page, or on a short page once the server's page size is known."""

    name = "page_number"
    known_options = frozenset(
        {"page_param", "size_param", "base_page", "total_path", "page_count_path"}
    )
    hint = (
        "If the server names its paging parameters differently (e.g. page[number] and "
        "page[size]), set paging.options.page_param and size_param for this endpoint in the "
        "connector file."
    )

    @property
    def _page_param(self) -> str:
        return str(self.option("page_param", "page"))

    @property
    def size_param(self) -> str | None:
        return str(self.option("size_param", "page_size")) if self.page_size else None

    @property
    def _base(self) -> int:
        return int(self.option("base_page", 1))

    def param_names(self) -> list[str]:
        return [self._page_param, *super().param_names()]

    def move_param(self) -> str:
        return self._page_param

    def pages_reported(self, body: Any) -> Reported | None:
        if self.tally.read is None:
            return None
        return reported(body, self.option("page_count_path", AUTO), "page_count_path", "pages")

    def page_index(self) -> int:
        return self.page - self._base + 1

    def first(self, request: PageRequest) -> None:
        self.page = self._base
        request.params[self._page_param] = self.page
        if self.size_param:
            request.params[self.size_param] = self.page_size

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        if self.ends(response, body, records):
            return self._finish()
        self.page += 1
        request.params[self._page_param] = self.page
        return True

    def state(self) -> dict[str, Any]:
        return self._with_tally({"page": self.page})

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.page = int(state["page"])
        self.tally.restore(state)
        request.params[self._page_param] = self.page


class _Served(_Generic):
    """Walks where the server says whether another page follows (a next URL, a cursor): the
    end is the server's word, checked against the total it reports."""

    @property
    def size_param(self) -> str | None:
        configured = self.option("size_param", None)
        return str(configured) if configured and self.page_size else None

    def ends(self, response: httpx.Response, body: Any, records: list[Any], following: Any) -> bool:
        tally = self.tally
        tally.count(records)
        if following:
            tally.check_size(self.page_size, len(records), self.size_param, self.size_option)
            return False
        total = self.reported_total(body)
        if total is not None and tally.read is not None and tally.read < total.value:
            raise tally.short(total, self.sent(response))
        return True


class _FollowsUrls(_Served):
    """Strategies where the server names the next page's URL."""

    hint = (
        "The server gave no next page; check the endpoint's path, filters and "
        "paging.options.size_param in the connector file."
    )

    def first(self, request: PageRequest) -> None:
        self.next: str | None = None
        if self.size_param:
            request.params[self.size_param] = self.page_size

    def _follow(self, request: PageRequest, response: httpx.Response, link: Any) -> bool:
        following = str(response.request.url.join(str(link)))
        if following in (str(response.request.url), self.next):
            raise IncompleteRead(
                f"endpoint {self.endpoint.name!r}: the next page is the page just read "
                f"({following}); the walk would never end"
            )
        self.next = request.url = following
        request.params = {}  # the URL carries them
        return True

    def _walk_on(
        self,
        request: PageRequest,
        response: httpx.Response,
        body: Any,
        records: list[Any],
        link: Any,
    ) -> bool:
        if self.ends(response, body, records, link):
            return self._finish()
        return self._follow(request, response, link)

    def state(self) -> dict[str, Any]:
        return self._with_tally({"url": self.next})

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.next = request.url = str(state["url"])
        self.tally.restore(state)
        request.params = {}


class NextUrl(_FollowsUrls):
    """A field of the body holds the next page's URL (JSON:API `links.next`)."""

    name = "next_url"
    known_options = frozenset({"next_path", "size_param", "total_path"})

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        link = dig(body, self.option("next_path", "links.next"))
        return self._walk_on(request, response, body, records, link)


class LinkHeader(_FollowsUrls):
    """RFC 8288 `Link: <…>; rel="next"` (GitHub, Shopify)."""

    name = "link_header"
    known_options = frozenset({"rel", "size_param", "total_path"})

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        link = response.links.get(self.option("rel", "next"), {}).get("url")
        return self._walk_on(request, response, body, records, link)


class CursorToken(_Served):
    """An opaque token in the body is sent back as a parameter for the next page."""

    name = "cursor"
    known_options = frozenset({"cursor_path", "cursor_param", "size_param", "total_path"})
    hint = (
        "The server gave no next cursor; check paging.options.cursor_path and cursor_param "
        "in the connector file."
    )

    @property
    def size_param(self) -> str | None:
        return str(self.option("size_param", "limit")) if self.page_size else None

    @property
    def _cursor_param(self) -> str:
        return str(self.option("cursor_param", "cursor"))

    def param_names(self) -> list[str]:
        return [self._cursor_param, *super().param_names()]

    def first(self, request: PageRequest) -> None:
        self.cursor: str | None = None
        if self.size_param:
            request.params[self.size_param] = self.page_size

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        token = dig(body, self.option("cursor_path", "next_cursor"))
        if self.ends(response, body, records, token):
            return self._finish()
        if str(token) == self.cursor:
            raise IncompleteRead(
                f"endpoint {self.endpoint.name!r}: the server returned the same cursor twice; "
                "the walk would never end"
            )
        self.cursor = str(token)
        request.params[self._cursor_param] = self.cursor
        return True

    def state(self) -> dict[str, Any]:
        return self._with_tally({"cursor": self.cursor})

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.cursor = state["cursor"]
        self.tally.restore(state)
        request.params[self._cursor_param] = self.cursor
