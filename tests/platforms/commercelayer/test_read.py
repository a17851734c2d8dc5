"""Reading Commerce Layer collections against the sandbox: page numbers, the id keyset over many
pages, incremental windows with records sharing one updated_at, checkpoints, filters, include
and sparse fields, and a storm of 429s, 503s and dropped connections mid-read — every record
exactly once."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cartwire.connectors import get_connector
from cartwire.connectors.schema import Endpoint, Paging
from cartwire.http.client import ApiClient
from cartwire.http.paging import IncompleteRead, paginator_for
from cartwire.platforms.commercelayer.paging import ClIdKeyset, to_ms
from cartwire.resources import Platform
from cartwire.resources.jsonapi import flatten_document
from cartwire.resources.reader import Page, pages
from tests.platforms.cl_support import Admin, skus, watched

T0, T1, T2 = "2026-01-05T10:00:00.000Z", "2026-01-05T10:00:00.001Z", "2026-01-06T08:00:00.000Z"


def endpoint(name: str, **paging: Any) -> Endpoint:
    """The connector file's endpoint, with its (incremental) paging changed for a test."""
    spec = get_connector("commercelayer").endpoint(name)
    if not paging:
        return spec
    field = "incremental" if paging.pop("incremental", False) else "paging"
    current = getattr(spec, field)
    options = {**current.options, **paging.pop("options", {})}
    return spec.model_copy(
        update={field: current.model_copy(update={"options": options, **paging})}
    )


def codes(records: list[dict[str, Any]]) -> list[str]:
    return [r["code"] for r in records]


def flat(batches: list[Page]) -> list[dict[str, Any]]:
    return [record for page in batches for record in page.records]


# -- records ------------------------------------------------------------------------------------


def test_jsonapi_resources_become_flat_records() -> None:
    document = {
        "data": [
            {
                "id": "S1",
                "type": "skus",
                "links": {"self": "…"},
                "attributes": {"code": "A", "name": "a"},
                "relationships": {
                    "shipping_category": {
                        "links": {},
                        "data": {"type": "shipping_categories", "id": "C"},
                    },
                    "prices": {"links": {}, "data": [{"type": "prices", "id": "P"}]},
                    "stock_items": {"links": {"related": "…"}},
                },
                "meta": {"trace_id": "x"},
            }
        ],
        "included": [
            {"id": "C", "type": "shipping_categories", "attributes": {"code": "merch"}},
            {
                "id": "P",
                "type": "prices",
                "attributes": {"amount_cents": 100},
                "relationships": {"sku": {"data": {"type": "skus", "id": "S1"}}},
            },
        ],
    }
    [record] = flatten_document(document)
    assert record == {
        "id": "S1",
        "type": "skus",
        "code": "A",
        "name": "a",
        "shipping_category": {"id": "C", "type": "shipping_categories", "code": "merch"},
        # the cycle back to the SKU stays a reference
        "prices": [
            {"id": "P", "type": "prices", "amount_cents": 100, "sku": {"id": "S1", "type": "skus"}}
        ],
    }  # stock_items had links only: left out, not shown as empty


# -- page number --------------------------------------------------------------------------------


def test_page_number_reads_every_page(platform: Platform, admin: Admin) -> None:
    skus(admin, 60)
    # Its own paging: the id keyset's options (concurrency, min_pages_per_walk) are not page
    # number options, and a generic strategy refuses options it does not know.
    spec = endpoint("skus").model_copy(update={"paging": Paging(strategy="cl_page_number")})
    assert spec.paging is not None
    paginator = paginator_for(spec, spec.paging)
    with watched(platform) as sent:
        read = list(pages(platform.api, spec, paginator))
    assert sorted(codes(flat(read))) == [f"SKU-{n:05d}" for n in range(60)]
    assert [p.total for p in read] == [60, 60, 60]
    assert [(r.url.params["page[number]"], r.url.params["page[size]"]) for r in sent] == [
        ("1", "25"),
        ("2", "25"),
        ("3", "25"),
    ]


def test_page_size_above_25_is_refused() -> None:
    spec = endpoint("skus", page_size=50)
    with pytest.raises(ValueError, match="at most 25"):
        ClIdKeyset(spec, spec.paging or Paging(strategy="cl_id_keyset"))


# -- id keyset ----------------------------------------------------------------------------------


def test_id_keyset_reads_many_pages_once(platform: Platform, admin: Admin) -> None:
    skus(admin, 1_234)
    with watched(platform) as sent:
        read = list(platform.pages("skus"))
    records = flat(read)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 1_234
    assert ids == sorted(ids)
    assert {p.total for p in read} == {1_234}
    assert len(sent) == 50  # 49 full pages and a short one; no empty page asked for
    previous = None
    for request, page in zip(sent, read, strict=True):
        params = request.url.params
        assert (params["sort"], params["page[size]"], params["page[number]"]) == ("id", "25", "1")
        assert params.get("filter[q][id_gt]") == previous
        previous = page.records[-1]["id"]


def test_a_full_last_page_ends_the_walk(platform: Platform, admin: Admin) -> None:
    skus(admin, 50)
    with watched(platform) as sent:
        assert len(list(platform.read("skus"))) == 50
    assert len(sent) == 2  # record_count said nothing was left after page 2


def test_resume_from_a_checkpoint(platform: Platform, admin: Admin) -> None:
    skus(admin, 130)
    walk = platform.pages("skus")
    first = [next(walk), next(walk)]
    rest = list(platform.pages("skus", resume=first[-1].state))
    assert len(flat(first)) == 50
    assert sorted(r["id"] for r in flat(first + rest)) == sorted(
        r["id"] for r in platform.read("skus")
    )
    assert rest[-1].state["done"] is True
    assert not flat(list(platform.pages("skus", resume=rest[-1].state)))


def test_a_short_page_claiming_more_records_fails_loudly() -> None:
    def lying(request: httpx.Request) -> httpx.Response:
        data = [{"id": f"id{n}", "type": "skus", "attributes": {}} for n in range(3)]
        return httpx.Response(200, json={"data": data, "meta": {"record_count": 40}})

    api = ApiClient("https://cl.invalid/api", transport=httpx.MockTransport(lying))
    spec = endpoint("skus")
    with pytest.raises(IncompleteRead, match="3 records said 40"):
        list(pages(api, spec, ClIdKeyset(spec, spec.paging or Paging(strategy="cl_id_keyset"))))


# -- filters ------------------------------------------------------------------------------------


def test_ransack_filters_include_and_sparse_fields(platform: Platform, admin: Admin) -> None:
    skus(admin, 40)
    filters = {"q.code_start": ["SKU-0001"], "include": ["shipping_category"]}
    with watched(platform) as sent:
        found = list(platform.read("skus", filters=filters))
    assert sorted(codes(found)) == [f"SKU-{n:05d}" for n in range(10, 20)]
    assert sent[0].url.params["filter[q][code_start]"] == "SKU-0001"
    assert found[0]["shipping_category"]["code"] == "merchandise"
    sparse = list(
        platform.read("skus", filters={"fields.skus": ["code"], "q.code_eq": ["SKU-00003"]})
    )
    assert [set(r) for r in sparse] == [{"id", "type", "code"}]
    assert len(list(platform.read("skus", filters={"q.name_or_code_cont": ["00007"]}))) == 1


def test_user_filters_hold_in_every_walk_of_a_concurrent_read(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 30, 0, T0)
    later = set(skus(admin, 260, 100))  # created now
    filters = {"q.created_at_gteq": [T2]}
    assert {r["id"] for r in platform.read("skus", filters=filters)} == later

    async def concurrently() -> list[Page]:
        return [page async for page in platform.apages("skus", filters=filters, concurrency=3)]

    walked = asyncio.run(concurrently())
    read = [r["id"] for r in flat(walked)]
    assert len(read) == len(set(read)) == 260
    assert set(read) == later
    assert max(len(page.state["walks"]) for page in walked) >= 2


def test_id_bounds_given_as_filters_become_the_walks_range(
    platform: Platform, admin: Admin
) -> None:
    ids = sorted(skus(admin, 100))
    bounded = {"q.id_gteq": [ids[10]], "q.id_lt": [ids[70]]}
    assert sorted(r["id"] for r in platform.read("skus", filters=bounded)) == ids[10:70]


def test_filters_the_walk_owns_are_refused(platform: Platform) -> None:
    with pytest.raises(ValueError, match=r"filter\[q\]\[id_gt\] is set by the cl_id_keyset walk"):
        list(platform.read("skus", filters={"q.id_gt": ["x"]}))
    with pytest.raises(ValueError, match="has no filter 'colour'"):
        list(platform.read("skus", filters={"colour": ["red"]}))


# -- incremental --------------------------------------------------------------------------------


def test_incremental_reads_records_sharing_one_updated_at_once(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 40, 0, T0)
    shared = set(skus(admin, 70, 100, T1))  # 70 records, one instant: more than two pages
    later = set(skus(admin, 30, 200, T2))
    since = datetime(2026, 1, 5, 10, 0, 0, 1000, tzinfo=UTC)  # == T1
    read = list(platform.pages("skus", since=since))
    ids = [r["id"] for r in flat(read)]
    assert len(ids) == len(set(ids)) == 100
    assert set(ids) == shared | later
    window = {r["id"] for r in platform.read("skus", since=since + timedelta(milliseconds=1))}
    assert window == later
    assert read[-1].state["until"] > T2


def test_incremental_runs_chain_without_gaps(platform: Platform, admin: Admin) -> None:
    skus(admin, 30, 0, T1)
    spec = endpoint("skus", incremental=True, options={"lag_seconds": 0})
    incremental = spec.incremental
    assert incremental is not None

    def run(since: datetime) -> list[Page]:
        return list(pages(platform.api, spec, paginator_for(spec, incremental, since)))

    first = run(datetime(2026, 1, 1))
    assert len(flat(first)) == 30
    [changed] = platform.writer("skus").upsert([{"code": "SKU-00003", "name": "renamed"}])
    assert changed.outcome == "updated"
    assert changed.record is not None
    # The sandbox's clock runs ahead of the wall clock after bulk loads (a tick per record),
    # which is what the default lag is for; with no lag, wait until it is in the past.
    stamp = to_ms(changed.record["updated_at"]) or 0
    time.sleep(max(0.0, stamp / 1000 - time.time() + 0.01))
    second = run(datetime.fromisoformat(first[-1].state["until"]))
    assert [(r["code"], r["name"]) for r in flat(second)] == [("SKU-00003", "renamed")]


# -- a storm mid-read ---------------------------------------------------------------------------


def test_a_storm_of_429_503_and_drops_mid_read_is_survived_exactly_once(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 300)
    walk = platform.pages("skus")
    read = [next(walk) for _ in range(3)]
    admin.clear_counters()
    waves: list[list[dict[str, Any]]] = [
        [{"status": 429, "retry_after": 0, "count": 2}, {"status": 503}, {"drop": True}],
        [{"status": 503, "count": 2}, {"status": 429, "retry_after": 0, "count": 2}],
    ]
    for wave in waves:
        for fault in wave:
            admin.fault(method="GET", path="^/api/skus$", **fault)
        read += [next(walk) for _ in range(3)]
    read += list(walk)
    ids = [r["id"] for r in flat(read)]
    assert len(ids) == len(set(ids)) == 300
    assert admin.requests("GET", "skus") == 9 + 8  # nine pages left, eight failed attempts
    assert platform.api.stats.statuses[429] == 4
    assert platform.api.stats.statuses[503] == 3
