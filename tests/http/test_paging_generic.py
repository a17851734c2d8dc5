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


# -- no end without evidence -------------------------------------------------------------------

JSONAPI_SIZE = 5968  # the collection of the user connector that read 10 of it and said done


def jsonapi(path: str = "api/orders", **options: Any) -> Endpoint:
    """`page_number` against a `page[number]`/`page[size]` server, as a connector file has it."""
    return Endpoint(
        name="orders",
        entity="orders",
        direction="receive",
        path=path,
        data_path="data",
        paging=Paging(strategy="page_number", page_size=100, options=options),
    )


BRACKETS = {"page_param": "page[number]", "size_param": "page[size]"}


def test_a_server_ignoring_the_page_parameters_fails_with_the_numbers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The report: `page`/`page_size` sent, the server pages by `page[number]`/`page[size]` (10
    a page by default) and says meta.total 5968. It used to read 10 records and end."""
    with serve(JSONAPI_SIZE) as (url, served), pytest.raises(IncompleteRead) as caught:
        walk(url, jsonapi())
    message = str(caught.value)
    assert "page 2 (page=2, page_size=100) returned the same records as the page before" in message
    assert "the server ignores 'page'" in message
    assert "Read 10 record(s) of the 5,968 records (at 'meta.total') in 1 page(s)" in message
    assert "set paging.options.page_param and size_param" in message
    assert len(served.requests) == 2
    assert "asked for 100 records a page (page_size=100) but the server returned 10" in caplog.text


def test_the_parameter_names_configured_read_every_record_and_warn_of_the_size(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server caps `page[size]` at 25: a short page is not the end while meta.total says
    more (the old walk ended after the first 25)."""
    with serve(JSONAPI_SIZE) as (url, served):
        walked = walk(url, jsonapi(**BRACKETS, total_path="meta.total"))
    assert ids(walked) == list(range(1, JSONAPI_SIZE + 1))
    assert len(served.requests) == len(walked) == -(-JSONAPI_SIZE // 25)
    assert {page.total for page in walked} == {JSONAPI_SIZE}
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1  # once a walk, not once a page
    assert "asked for 100 records a page (page[size]=100) but the server returned 25" in warned[0]


def test_without_a_total_a_short_first_page_is_checked_by_asking_for_the_next() -> None:
    """No total, `page[size]` not honoured (a misnamed size parameter): page 1 holds 10 of the
    100 asked; the next page shows it was not the end, and pages of 10 then tell the end."""
    options = {"page_param": "page[number]", "size_param": "per_page"}
    with serve(95) as (url, served):
        walked = walk(url, jsonapi("api/orders?no_total=1", **options))
    assert ids(walked) == list(range(1, 96))
    assert len(served.requests) == 10


def test_without_a_total_a_small_collection_costs_one_request_more() -> None:
    with serve(7) as (url, served):
        walked = walk(url, jsonapi("api/orders?no_total=1", **BRACKETS))
    assert ids(walked) == list(range(1, 8))
    assert len(served.requests) == 2  # the short page, then the empty one that proves the end


def test_without_a_total_a_server_ignoring_the_page_fails_instead_of_ending() -> None:
    with serve(95) as (url, _), pytest.raises(IncompleteRead, match="the server ignores 'page'"):
        walk(url, jsonapi("api/orders?no_total=1"))


def test_limit_offset_reads_on_past_a_capped_limit_while_the_total_says_more() -> None:
    spec = endpoint("limit_offset")
    assert spec.paging is not None
    big = spec.model_copy(update={"paging": spec.paging.model_copy(update={"page_size": 500})})
    with serve(950, limit_max=100) as (url, served):
        walked = walk(url, big)
    assert ids(walked) == list(range(1, 951))  # not the first 100 only
    assert len(served.requests) == 10


TOTALLED = ["limit_offset", "page_number", "next_url", "cursor"]


@pytest.mark.parametrize("strategy", TOTALLED)
def test_a_walk_ending_before_the_reported_total_fails_with_the_numbers(strategy: str) -> None:
    """The server stops serving records at 30 but reports 95 (a total or a page count)."""
    with serve(95, truncate_at=30) as (url, _), pytest.raises(IncompleteRead) as caught:
        walk(url, endpoint(strategy))
    message = str(caught.value)
    assert "the walk would end after 30 record(s) in " in message
    reported = "10 pages (at 'pages')" if strategy == "page_number" else "95 records (at 'total')"
    assert f"but the server reports {reported}" in message
    assert "the last request sent " in message


def test_a_walk_is_checked_against_the_total_after_a_resume() -> None:
    spec = endpoint("limit_offset")
    with serve(95) as (url, _):
        second = walk(url, spec)[1]
    with serve(95, truncate_at=30) as (url, _), pytest.raises(IncompleteRead) as caught:
        walk(url, spec, resume=second.state)
    assert "after 30 record(s) in 4 page(s), but the server reports 95 records" in str(caught.value)


def test_a_total_path_set_to_null_switches_the_check_off() -> None:
    with serve(95, truncate_at=30) as (url, _):
        walked = walk(url, endpoint("limit_offset", total_path=None))
    assert ids(walked) == list(range(1, 31))


def test_an_option_the_strategy_does_not_know_is_refused_before_any_request() -> None:
    spec = jsonapi(page_param="page[number]", size_parm="page[size]")
    assert spec.paging is not None
    with pytest.raises(ValueError, match="page_number paging has no option 'size_parm'"):
        paginator_for(spec, spec.paging)
