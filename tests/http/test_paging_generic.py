"""The generic paging strategies against a real local HTTP server: every record exactly once,
resumable from any page's checkpoint, and loud failures instead of partial reads."""

from typing import Any

import pytest

from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.client import ApiClient
from cartwire.http.paging import IncompleteRead, paginator_for
from cartwire.resources.reader import Page, pages
from tests.http.local_server import serve

STRATEGIES: dict[str, dict[str, Any]] = {
    "limit_offset": {"data_path": "items", "options": {"total_path": "total"}},
    "page_number": {"data_path": "items", "options": {"page_count_path": "pages"}},
    "next_url": {"data_path": "items", "options": {"size_param": "size"}},
    "link_header": {"data_path": None, "options": {"size_param": "per_page"}},
    "cursor": {"data_path": "items", "options": {}},
}


def endpoint(strategy: str, path: str | None = None, **options: Any) -> Endpoint:
    spec = STRATEGIES[strategy]
    return Endpoint(
        name=strategy.replace("_", "-"),
        entity="records",
        direction="receive",
        path=path or strategy,
        data_path=spec["data_path"],
        paging=Paging(strategy=strategy, page_size=10, options={**spec["options"], **options}),
    )


def walk(url: str, spec: Endpoint, resume: dict[str, Any] | None = None) -> list[Page]:
    assert spec.paging is not None
    api = ApiClient(url)
    try:
        return list(pages(api, spec, paginator_for(spec, spec.paging), resume=resume))
    finally:
        api.close()


def ids(walked: list[Page]) -> list[int]:
    return [record["id"] for page in walked for record in page.records]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("size", [0, 7, 95, 100])
def test_every_record_exactly_once(strategy: str, size: int) -> None:
    with serve(size) as (url, _):
        walked = walk(url, endpoint(strategy))
    assert ids(walked) == list(range(1, size + 1))
    assert walked[-1].state == {"done": True}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_walk_resumes_after_any_page(strategy: str) -> None:
    spec = endpoint(strategy)
    with serve(95) as (url, served):
        walked = walk(url, spec)
        for page in walked:
            served.requests.clear()
            rest = walk(url, spec, resume=page.state)
            assert ids(walked[: page.number]) + ids(rest) == list(range(1, 96))
            assert len(served.requests) == len(walked) - page.number  # no page read twice


def test_the_total_is_reported_for_progress() -> None:
    with serve(42) as (url, _):
        walked = walk(url, endpoint("limit_offset"))
    assert {page.total for page in walked} == {42}


def test_limit_offset_refuses_before_reading_a_collection_past_max_offset() -> None:
    with serve(95, max_offset=50) as (url, served), pytest.raises(IncompleteRead) as caught:
        walk(url, endpoint("limit_offset", max_offset=50))
    assert "95 records, but offsets stop at 50" in str(caught.value)
    assert len(served.requests) == 1  # the first page said how many; nothing more was read


def test_limit_offset_without_a_total_fails_at_max_offset_never_truncates() -> None:
    spec = endpoint("limit_offset", max_offset=50, total_path=None)
    seen: list[int] = []

    def read(url: str) -> None:
        assert spec.paging is not None
        api = ApiClient(url)
        try:
            for page in pages(api, spec, paginator_for(spec, spec.paging)):
                seen.extend(record["id"] for record in page.records)
        finally:
            api.close()

    with (
        serve(95, max_offset=50) as (url, served),
        pytest.raises(IncompleteRead, match="offsets stop at 50"),
    ):
        read(url)
    assert seen == list(range(1, 51))  # what was read is what was delivered, and it did not end
    # Offsets 0..50 were asked for (the page at 50 failed before it was handed on); the server
    # would have answered 400, not IncompleteRead, had the walk asked for an offset above 50.
    assert len(served.requests) == 6


def test_limit_offset_reaches_max_offset_exactly() -> None:
    with serve(60, max_offset=50) as (url, _):
        walked = walk(url, endpoint("limit_offset", max_offset=50))
    assert ids(walked) == list(range(1, 61))


def test_a_cursor_that_never_moves_fails_instead_of_looping() -> None:
    with serve(95) as (url, _), pytest.raises(IncompleteRead, match="same cursor twice"):
        walk(url, endpoint("cursor", path="cursor?stuck=1"))
