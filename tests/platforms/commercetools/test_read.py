"""Reading commercetools collections against the sandbox: every record exactly once, past the
10,000 offset ceiling, with thousands of records sharing one lastModifiedAt, resumed from a
checkpoint, filtered, incremental, and through a storm of 429s and 503s."""

import asyncio
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cartwire.connectors import get_connector
from cartwire.http.errors import ServerError
from cartwire.resources import Platform
from tests.platforms.ct_support import (
    Admin,
    bare_product,
    category,
    channel,
    customer,
    product,
    product_type,
    sent_urls,
)

T0 = "2026-03-01T10:00:00.000Z"


def ids(records: Iterable[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


def test_full_read_past_the_offset_ceiling(platform: Platform, admin: Admin) -> None:
    admin.load("product-type", [product_type()])
    admin.load("product", [bare_product(n) for n in range(12_345)])
    with sent_urls(platform) as urls:
        read = ids(platform.read("products"))
    assert len(read) == 12_345
    assert len(set(read)) == 12_345
    assert read == sorted(read)  # one id-ordered walk
    assert len(urls) == 25  # 24 full pages and a short one: no extra request
    assert urls[0].params["withTotal"] == "true"  # the total once, for progress and ETA
    for url in urls:
        assert url.params["limit"] == "500"
        assert url.params["withTotal"] == ("true" if url is urls[0] else "false")
        assert url.params.get_list("sort") == ["id asc"]
        assert "offset" not in url.params
    assert "where" not in urls[0].params
    assert urls[1].params["where"] == f'id > "{read[499]}"'


def test_a_collection_of_whole_pages_ends_on_an_empty_page(
    platform: Platform, admin: Admin
) -> None:
    admin.load("customer", [customer(n) for n in range(1000)])
    with sent_urls(platform) as urls:
        assert len(set(ids(platform.read("customers")))) == 1000
    assert len(urls) == 3


def test_incremental_read_of_12000_records_sharing_one_timestamp(
    platform: Platform, admin: Admin
) -> None:
    admin.load("customer", [customer(n) for n in range(12_000)], timestamp=T0)
    later = "2026-03-01T10:00:00.001Z"
    admin.load("customer", [customer(n) for n in range(12_000, 12_100)], timestamp=later)
    since = datetime.fromisoformat(T0)
    with sent_urls(platform) as urls:
        read = list(platform.read("customers", since=since))
    assert len(read) == 12_100
    assert len({r["id"] for r in read}) == 12_100
    assert [r["lastModifiedAt"] for r in read] == [T0] * 12_000 + [later] * 100
    assert urls[0].params.get_list("sort") == ["lastModifiedAt asc", "id asc"]
    assert urls[0].params["where"] == "lastModifiedAt >= :t"
    assert urls[0].params["var.t"] == T0
    cursor = urls[1].params
    assert cursor["where"] == "lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)"
    assert (cursor["var.t"], cursor["var.id"]) == (T0, read[499]["id"])
    assert all("offset" not in url.params for url in urls)

    just_after = since + timedelta(milliseconds=1)
    assert len(list(platform.read("customers", since=just_after))) == 100


def test_since_reads_only_what_changed_at_or_after_it(platform: Platform, admin: Admin) -> None:
    for hour, count in ((1, 10), (2, 20), (3, 30)):
        admin.load(
            "customer",
            [customer(hour * 1000 + n) for n in range(count)],
            timestamp=f"2026-01-01T0{hour}:00:00Z",
        )
    read = list(platform.read("customers", since=datetime(2026, 1, 1, 2, tzinfo=UTC)))
    assert len(read) == 50
    assert {r["lastModifiedAt"] for r in read} == {
        "2026-01-01T02:00:00.000Z",
        "2026-01-01T03:00:00.000Z",
    }
    # A time without a zone is UTC.
    assert len(list(platform.read("customers", since=datetime(2026, 1, 1, 3)))) == 30


@pytest.mark.parametrize("incremental", [False, True], ids=["id", "modified"])
def test_resume_from_a_saved_checkpoint(
    platform: Platform, admin: Admin, incremental: bool
) -> None:
    admin.load("customer", [customer(n) for n in range(1200)], timestamp=T0)
    admin.load("customer", [customer(n) for n in range(1200, 2600)])
    since = datetime.fromisoformat(T0) if incremental else None
    first: list[str] = []
    for page in platform.pages("customers", since=since):
        first += ids(page.records)
        if page.number == 3:
            checkpoint = json.loads(json.dumps(page.state))  # as a flow would store it
            break
    rest = [
        i
        for page in platform.pages("customers", since=since, resume=checkpoint)
        for i in ids(page.records)
    ]
    assert len(first) == 1500
    assert len(rest) == 1100
    assert len(set(first) | set(rest)) == 2600


def test_where_filters_and_predicate_variables_stay_on_every_page(
    platform: Platform, admin: Admin
) -> None:
    admin.load(
        "customer",
        [customer(n, firstName="even" if n % 2 == 0 else "odd") for n in range(2400)],
    )
    evens = list(platform.read("customers", filters={"where": ['firstName = "even"']}))
    assert len({r["id"] for r in evens}) == 1200
    assert {r["firstName"] for r in evens} == {"even"}

    filters = {"where": ["firstName = :name", 'email != "customer-000001@example.com"']}
    with sent_urls(platform) as urls:
        odds = list(platform.read("customers", filters={**filters, "var.name": ["odd"]}))
    assert len({r["id"] for r in odds}) == 1199
    assert {r["firstName"] for r in odds} == {"odd"}
    assert urls[1].params.get_list("where")[:2] == filters["where"]
    assert urls[1].params["var.name"] == "odd"

    keys = ["customer-000004", "customer-000008"]
    by_keys = platform.read("customers", filters={"where": ["key in :keys"], "var.keys": keys})
    assert sorted(r["key"] for r in by_keys) == keys


def test_filters_the_endpoint_does_not_have_are_refused(platform: Platform) -> None:
    with pytest.raises(ValueError, match="has no filter 'sort'"):
        list(platform.read("customers", filters={"sort": ["id desc"]}))
    with pytest.raises(ValueError, match=r"var\.t is used by the incremental cursor"):
        list(platform.read("customers", since=datetime(2026, 1, 1), filters={"var.t": ["x"]}))


def test_a_storm_of_429_and_503_mid_read_loses_and_repeats_nothing(
    platform: Platform, admin: Admin
) -> None:
    admin.load("customer", [customer(n) for n in range(3000)])
    read: list[str] = []
    for page in platform.pages("customers"):
        read += ids(page.records)
        if page.number == 2:
            admin.fault(method="GET", path="/customers$", count=4, status=429, retry_after=0.05)
            admin.fault(method="GET", path="/customers$", count=2, status=503, retry_after=0.05)
    assert len(read) == 3000
    assert len(set(read)) == 3000
    assert admin.faults() == []  # every injected failure was met
    stats = platform.api.stats
    assert (stats.statuses[429], stats.statuses[503]) == (4, 2)
    assert stats.retries == 6
    assert admin.requests("GET", "customers") == 7 + 6  # 6 full pages, 1 empty, 6 refused


def test_a_storm_longer_than_the_retries_fails_the_read(platform: Platform, admin: Admin) -> None:
    admin.load("customer", [customer(n) for n in range(1000)])
    pages = platform.pages("customers")
    assert len(next(pages).records) == 500
    admin.fault(method="GET", path="/customers$", count=50, status=503, retry_after=0)
    with pytest.raises(ServerError) as failure:
        next(pages)
    assert failure.value.status == 503
    assert failure.value.code == "OverCapacity"


def test_async_read_sees_the_same_records(platform: Platform, admin: Admin) -> None:
    admin.load("customer", [customer(n) for n in range(1300)])

    async def read() -> list[str]:
        return [r["id"] async for r in platform.aread("customers")]

    read_async = asyncio.run(read())
    assert read_async == ids(platform.read("customers"))
    assert len(set(read_async)) == 1300


RECEIVING = [e.name for e in get_connector("commercetools").endpoints if e.receives]


@pytest.mark.parametrize("endpoint", RECEIVING)
def test_every_receiving_endpoint_reads(platform: Platform, endpoint: str) -> None:
    assert list(platform.read(endpoint)) == []
    assert list(platform.read(endpoint, since=datetime(2026, 1, 1))) == []


def test_catalogue_collections_read_their_records(platform: Platform, admin: Admin) -> None:
    admin.load("product-type", [product_type()])
    admin.load("category", [category("shirts")])
    admin.load("channel", [channel("eu")])
    admin.load("product", [product(1), {**product(2), "publish": False}])
    admin.load("inventory", [{"sku": "SKU-000001-M", "quantityOnStock": 5}])
    assert [r["key"] for r in platform.read("product-types")] == ["tshirt"]
    assert [r["key"] for r in platform.read("categories")] == ["shirts"]
    assert [r["key"] for r in platform.read("channels")] == ["eu"]
    assert [r["sku"] for r in platform.read("inventory")] == ["SKU-000001-M"]
    assert len(list(platform.read("products"))) == 2
    published = list(platform.read("product-projections"))
    assert [r["key"] for r in published] == ["product-000001"]
    staged = platform.read("product-projections", filters={"staged": ["true"]})
    assert len(list(staged)) == 2
    expanded = next(platform.read("products", filters={"expand": ["productType"]}))
    assert expanded["productType"]["obj"]["key"] == "tshirt"


def test_a_concurrent_read_cuts_the_id_range_and_reads_each_record_once(
    platform: Platform, admin: Admin
) -> None:
    admin.load("customer", [customer(n) for n in range(6000)])

    async def read() -> list[str]:
        return [r["id"] async for r in platform.aread("customers", concurrency=4)]

    read_ids = asyncio.run(read())
    # The first page, then 4 walks of ~1,375 records: full pages and one short page each.
    assert admin.requests("GET", "customers") <= 6000 // 500 + 4 + 1
    assert len(read_ids) == 6000
    assert set(read_ids) == set(ids(platform.read("customers")))


def test_a_concurrent_read_resumes_from_its_checkpoint(platform: Platform, admin: Admin) -> None:
    admin.load("customer", [customer(n) for n in range(6000)])

    async def first_pages() -> tuple[list[str], dict[str, Any]]:
        seen: list[str] = []
        async for page in platform.apages("customers", concurrency=4):
            seen += ids(page.records)
            if page.number == 5:
                return seen, json.loads(json.dumps(page.state))
        raise AssertionError("fewer than 5 pages")

    async def rest(state: dict[str, Any]) -> list[str]:
        pages = platform.apages("customers", resume=state, concurrency=4)
        return [i async for page in pages for i in ids(page.records)]

    before, checkpoint = asyncio.run(first_pages())
    assert len(checkpoint["walks"]) > 1  # it was cut
    after = asyncio.run(rest(checkpoint))
    assert len(before) + len(after) == 6000
    assert set(before) | set(after) == set(ids(platform.read("customers")))
