"""The commercetools keyset paginators against answers the sandbox never gives: pages out of
order, a server that serves fewer records per page than asked. Faked at the HTTP boundary (an
httpx MockTransport); everything else about them is tested against the sandbox in
tests/platforms/commercetools/test_read.py."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cartwire.connectors import get_connector
from cartwire.http.client import ApiClient
from cartwire.http.paging import IncompleteRead, PageRequest, Paginator, paginator_for
from cartwire.resources.reader import pages

Pages = list[list[dict[str, Any]]]
ENDPOINT = get_connector("commercetools").endpoint("customers")


def record(n: int, stamp: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {"id": f"id-{n:05d}", "lastModifiedAt": stamp}


def serve(answers: Pages, limit: int | None = None) -> tuple[ApiClient, list[httpx.URL]]:
    """A client whose server answers the i-th request with the i-th page."""
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        results = answers[len(seen) - 1]
        served = limit or int(request.url.params["limit"])
        body = {"limit": served, "offset": 0, "count": len(results), "results": results}
        return httpx.Response(200, json=body)

    return ApiClient("https://api.example.com/p", transport=httpx.MockTransport(handler)), seen


def walk(paginator: Paginator, api: ApiClient) -> list[str]:
    return [r["id"] for page in pages(api, ENDPOINT, paginator) for r in page.records]


def id_keyset(size: int = 2) -> Paginator:
    assert ENDPOINT.paging is not None
    return paginator_for(ENDPOINT, ENDPOINT.paging.model_copy(update={"page_size": size}))


def modified_keyset(size: int = 2) -> Paginator:
    assert ENDPOINT.incremental is not None
    paging = ENDPOINT.incremental.model_copy(update={"page_size": size})
    return paginator_for(ENDPOINT, paging, datetime(2026, 1, 1, tzinfo=UTC))


def test_id_keyset_walks_until_a_short_page() -> None:
    api, seen = serve([[record(1), record(2)], [record(3), record(4)], [record(5)]])
    assert walk(id_keyset(), api) == ["id-00001", "id-00002", "id-00003", "id-00004", "id-00005"]
    assert [u.params.get("where") for u in seen] == [None, 'id > "id-00002"', 'id > "id-00004"']


@pytest.mark.parametrize(
    "answers",
    [
        [[record(1), record(2)], [record(2), record(3)]],  # a page repeats the cursor
        [[record(1), record(3)], [record(2), record(4)]],  # a page starts before the cursor
        [[record(2), record(1)]],  # a page is not sorted
    ],
    ids=["repeat", "behind", "unsorted"],
)
def test_id_keyset_fails_loudly_on_pages_out_of_order(answers: Pages) -> None:
    api, _ = serve(answers)
    with pytest.raises(IncompleteRead, match="does not follow"):
        walk(id_keyset(), api)


@pytest.mark.parametrize(
    "answers",
    [
        [[record(1, "2026-01-02T00:00:00Z"), record(2, "2026-01-01T23:59:59.999Z")]],
        [[record(1), record(2)], [record(1), record(3)]],
        [[record(5), record(6)], [record(4, "2026-01-01T00:00:00.000Z")]],
    ],
    ids=["time-goes-back", "repeat", "same-time-lower-id"],
)
def test_modified_keyset_fails_loudly_on_pages_out_of_order(answers: Pages) -> None:
    api, _ = serve(answers)
    with pytest.raises(IncompleteRead, match="does not follow"):
        walk(modified_keyset(), api)


def test_modified_keyset_compares_instants_not_text() -> None:
    # The same instant written two ways, then a later one: in order.
    answers = [
        [record(1, "2026-01-01T01:00:00.000Z"), record(2, "2026-01-01T02:00:00+01:00")],
        [record(3, "2026-01-01T01:00:00.001Z")],
    ]
    api, seen = serve(answers)
    assert walk(modified_keyset(), api) == ["id-00001", "id-00002", "id-00003"]
    assert seen[1].params["var.t"] == "2026-01-01T02:00:00+01:00"
    assert seen[1].params["var.id"] == "id-00002"


@pytest.mark.parametrize("make", [id_keyset, modified_keyset], ids=["id", "modified"])
def test_a_server_serving_smaller_pages_is_followed_to_the_end(
    make: Callable[[int], Paginator],
) -> None:
    # Asked for 3 per page, the server says its limit is 2 and serves 2: not the last page.
    api, seen = serve([[record(1), record(2)], [record(3), record(4)], []], limit=2)
    assert walk(make(3), api) == ["id-00001", "id-00002", "id-00003", "id-00004"]
    assert len(seen) == 3


def test_page_size_is_capped_at_the_platform_maximum() -> None:
    api, seen = serve([[]])
    walk(id_keyset(size=10_000), api)
    assert seen[0].params["limit"] == "500"


def uuid(prefix: str) -> str:
    return f"{prefix}-0000-4000-8000-000000000000"


def test_id_keyset_splits_the_rest_of_the_id_range() -> None:
    api, _ = serve([[{"id": uuid("1fffffff")}, {"id": uuid("3fffffff")}]])
    paginator = id_keyset()
    request = PageRequest(params={"where": ['key = "x"']})
    paginator.first(request)
    response = api.request("GET", "customers", params=request.params)
    body = response.json()
    assert paginator.advance(request, response, body, body["results"])
    children = paginator.split(request, body["results"], 4)
    # Ids above 3fffffff… in 4 equal ranges: this walk keeps the first.
    assert request.params["where"] == [
        'key = "x"',
        f'id > "{uuid("3fffffff")}"',
        'id < "70000000"',
    ]
    assert [c.state() for c in children] == [
        {"from_id": "70000000", "before_id": "a0000000"},
        {"from_id": "a0000000", "before_id": "d0000000"},
        {"from_id": "d0000000"},
    ]
    restored = PageRequest(params={"where": ['key = "x"']})
    fresh = id_keyset()
    fresh.restore(restored, children[0].state())
    assert restored.params["where"] == ['key = "x"', 'id >= "70000000"', 'id < "a0000000"']


def test_id_keyset_does_not_split_what_it_cannot_cut() -> None:
    api, _ = serve([[record(1), record(2)]])  # ids that are not hex
    paginator = id_keyset()
    request = PageRequest()
    paginator.first(request)
    response = api.request("GET", "customers", params=request.params)
    body = response.json()
    paginator.advance(request, response, body, body["results"])
    assert paginator.split(request, body["results"], 4) == []


def test_a_cut_walk_refuses_records_outside_its_range() -> None:
    api, _ = serve([[{"id": uuid("80000000")}]])
    cut = {"from_id": "40000000", "before_id": "60000000"}
    with pytest.raises(IncompleteRead, match="does not follow"):
        list(pages(api, ENDPOINT, id_keyset(), resume=cut))
