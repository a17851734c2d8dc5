"""The generic paging methods Patchworks offers, so a user-written connector file can use them:
limit-offset, page number, next-page URL, link header and cursor token.

Each keeps, as its `state`, where the *next* page starts (`{"done": True}` once the last page was
read), so a walk resumed from any page's checkpoint reads every remaining record exactly once.
A server that hands out the same next page twice would loop forever; that fails instead.

Options (under `paging.options` in a connector file):
- limit_offset: `limit_param` (limit), `offset_param` (offset), `start` (0), `total_path`,
  `max_offset` (the highest offset the API accepts; a collection that needs more fails loudly).
- page_number: `page_param` (page), `size_param` (page_size), `base_page` (1), `total_path`,
  `page_count_path`.
- next_url: `next_path` (links.next), `size_param`, `total_path`.
- link_header: `rel` (next), `size_param`, `total_path`.
- cursor: `cursor_path` (next_cursor), `cursor_param` (cursor), `size_param` (limit),
  `total_path`.
"""

from typing import Any

import httpx

from cartwire.http.paging.base import IncompleteRead, PageRequest, Paginator, dig

DONE: dict[str, Any] = {"done": True}


class _Generic(Paginator):
    """What the generic strategies share: the total from `total_path`, the finished flag."""

    done = False

    def total(self, body: Any) -> int | None:
        value = dig(body, self.option("total_path", None))
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def _finish(self) -> bool:
        self.done = True
        return False


class LimitOffset(_Generic):
    """`limit`/`offset` parameters. With `max_offset` set, a walk that would pass it fails
    loudly instead of stopping early (the truncation dlt's `maximum_offset` does silently)."""

    name = "limit_offset"

    @property
    def _limit_param(self) -> str:
        return str(self.option("limit_param", "limit"))

    @property
    def _offset_param(self) -> str:
        return str(self.option("offset_param", "offset"))

    def first(self, request: PageRequest) -> None:
        self.offset = int(self.option("start", 0))
        request.params[self._limit_param] = self.page_size or 100
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
        limit = int(request.params[self._limit_param])
        total = self.total(body)
        self.offset += len(records)
        if len(records) < limit or (total is not None and self.offset >= total):
            return self._finish()
        self._check_reachable(limit, total)
        request.params[self._offset_param] = self.offset
        return True

    def state(self) -> dict[str, Any]:
        return DONE if self.done else {"offset": self.offset}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.offset = int(state["offset"])
        request.params[self._offset_param] = self.offset


class PageNumber(_Generic):
    """`page`/`page_size` parameters; stops on a short or empty page or at the page count."""

    name = "page_number"

    def first(self, request: PageRequest) -> None:
        self.page = int(self.option("base_page", 1))
        request.params[self.option("page_param", "page")] = self.page
        if self.page_size:
            request.params[self.option("size_param", "page_size")] = self.page_size

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        pages = dig(body, self.option("page_count_path", None))
        if not records or (self.page_size and len(records) < self.page_size):
            return self._finish()
        if isinstance(pages, int) and self.page - int(self.option("base_page", 1)) + 1 >= pages:
            return self._finish()
        self.page += 1
        request.params[self.option("page_param", "page")] = self.page
        return True

    def state(self) -> dict[str, Any]:
        return DONE if self.done else {"page": self.page}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.page = int(state["page"])
        request.params[self.option("page_param", "page")] = self.page


class _FollowsUrls(_Generic):
    """Strategies where the server names the next page's URL."""

    def first(self, request: PageRequest) -> None:
        self.next: str | None = None
        if self.page_size and self.option("size_param", None):
            request.params[self.option("size_param", None)] = self.page_size

    def _follow(self, request: PageRequest, response: httpx.Response, link: Any) -> bool:
        if not link:
            return self._finish()
        following = str(response.request.url.join(str(link)))
        if following in (str(response.request.url), self.next):
            raise IncompleteRead(
                f"endpoint {self.endpoint.name!r}: the next page is the page just read "
                f"({following}); the walk would never end"
            )
        self.next = request.url = following
        request.params = {}  # the URL carries them
        return True

    def state(self) -> dict[str, Any]:
        return DONE if self.done else {"url": self.next}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.next = request.url = str(state["url"])
        request.params = {}


class NextUrl(_FollowsUrls):
    """A field of the body holds the next page's URL (JSON:API `links.next`)."""

    name = "next_url"

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        return self._follow(request, response, dig(body, self.option("next_path", "links.next")))


class LinkHeader(_FollowsUrls):
    """RFC 8288 `Link: <…>; rel="next"` (GitHub, Shopify)."""

    name = "link_header"

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        link = response.links.get(self.option("rel", "next"), {}).get("url")
        return self._follow(request, response, link)


class CursorToken(_Generic):
    """An opaque token in the body is sent back as a parameter for the next page."""

    name = "cursor"

    def first(self, request: PageRequest) -> None:
        self.cursor: str | None = None
        if self.page_size:
            request.params[self.option("size_param", "limit")] = self.page_size

    def advance(
        self, request: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> bool:
        token = dig(body, self.option("cursor_path", "next_cursor"))
        if not token:
            return self._finish()
        if str(token) == self.cursor:
            raise IncompleteRead(
                f"endpoint {self.endpoint.name!r}: the server returned the same cursor twice; "
                "the walk would never end"
            )
        self.cursor = str(token)
        request.params[self.option("cursor_param", "cursor")] = self.cursor
        return True

    def state(self) -> dict[str, Any]:
        return DONE if self.done else {"cursor": self.cursor}

    def restore(self, request: PageRequest, state: dict[str, Any]) -> None:
        self.first(request)
        self.cursor = state["cursor"]
        request.params[self.option("cursor_param", "cursor")] = self.cursor
