"""Writing Commerce Layer records against the sandbox: create, update, unchanged (no write at
all), delete, relationships by code or id, 422s with their pointers, duplicate keys in one
batch, dry runs, a safe create retry, and lookups of up to 100 keys a filter."""

from typing import Any
from urllib.parse import quote

from cartwire.platforms.commercelayer.records import IN_CHARS, in_lists
from cartwire.resources import Platform
from cartwire.resources.writer import Change
from tests.platforms.cl_support import (
    EUR,
    EUROPE,
    MERCHANDISE,
    WAREHOUSE,
    Admin,
    skus,
    watched,
)

Json = dict[str, Any]


def sku(n: int, **fields: Any) -> Json:
    return {
        "code": f"NEW-{n:04d}",
        "name": f"New {n}",
        "shipping_category": {"code": "merchandise"},
        **fields,
    }


def outcomes(results: Any) -> list[str]:
    return [r.outcome for r in results]


def test_create_then_unchanged_then_update(platform: Platform, admin: Admin) -> None:
    records = [sku(n, weight=n * 10, metadata={"n": n}) for n in range(30)]
    created = list(platform.upsert("skus", records))
    assert outcomes(created) == ["created"] * 30
    assert created[0].key == "NEW-0000"
    assert created[0].record is not None
    assert created[0].record["shipping_category"]["id"] == MERCHANDISE
    assert created[0].record["shipping_category"]["code"] == "merchandise"  # included
    assert admin.requests("POST", "skus") == 30

    admin.clear_counters()
    again = list(platform.upsert("skus", [{**r, "weight": str(r["weight"])} for r in records]))
    assert outcomes(again) == ["unchanged"] * 30  # "10" is 10: no write
    assert again[5].id == created[5].id
    assert admin.writes() == 0
    # 30 keys fit one filter; the 30 SKUs it finds come in 2 pages of 25
    assert admin.requests("GET", "skus") == 2

    admin.clear_counters()
    records[3]["name"] = "Renamed"
    records[4]["metadata"] = {"n": 4, "x": 1}
    with watched(platform) as sent:
        changed = list(platform.upsert("skus", records))
    assert [(r.key, r.outcome) for r in changed if r.outcome != "unchanged"] == [
        ("NEW-0003", "updated"),
        ("NEW-0004", "updated"),
    ]
    assert admin.writes() == 2
    patch = next(
        r for r in sent if r.method == "PATCH" and r.url.path.endswith(created[3].id or "")
    )
    assert patch.headers["content-type"] == "application/vnd.api+json"
    assert b'"attributes":{"name":"Renamed"}' in patch.content  # only what changed
    assert changed[3].record is not None
    assert changed[3].record["name"] == "Renamed"


def test_relationships_by_code_id_and_key(platform: Platform, admin: Admin) -> None:
    [made] = platform.upsert("skus", [sku(1)])
    prices = [
        {"sku_code": "NEW-0001", "price_list": {"code": "eur"}, "amount_cents": 1000},
    ]
    stock = [{"sku_code": "NEW-0001", "stock_location_id": WAREHOUSE, "quantity": 7}]
    assert outcomes(platform.upsert("prices", prices)) == ["created"]
    assert outcomes(platform.upsert("stock_items", stock)) == ["created"]
    prices[0]["amount_cents"] = 1200
    stock[0]["quantity"] = 7
    [price] = platform.upsert("prices", [{**prices[0], "price_list": {"id": EUR}}])
    assert (price.key, price.outcome) == (f"NEW-0001/{EUR}", "updated")
    assert price.record is not None
    assert price.record["amount_cents"] == 1200
    assert outcomes(platform.upsert("stock_items", stock)) == ["unchanged"]
    [customer] = platform.upsert("customers", [{"email": "ada@example.com", "password": "secret"}])
    assert customer.outcome == "created"
    # the password is never read back, so it cannot make a write
    assert outcomes(
        platform.upsert("customers", [{"email": "ada@example.com", "password": "x"}])
    ) == ["unchanged"]
    order = {"number": "ORDER-1", "market": {"code": "europe"}, "customer_email": "ada@example.com"}
    assert outcomes(platform.upsert("orders", [order])) == ["created"]
    [placed] = platform.upsert("orders", [{**order, "language_code": "it"}])
    assert placed.outcome == "updated"
    assert placed.record is not None
    assert placed.record["market"]["id"] == EUROPE
    assert made.record is not None


def test_validation_errors_carry_code_message_and_pointer(platform: Platform, admin: Admin) -> None:
    results = list(
        platform.upsert(
            "skus",
            [
                {"code": "NO-NAME", "shipping_category": {"code": "merchandise"}},
                {"code": "NO-CATEGORY", "name": "x", "shipping_category": {"code": "nope"}},
                {
                    "code": "BAD-UNIT",
                    "name": "x",
                    "unit_of_weight": "stone",
                    "shipping_category": MERCHANDISE,
                },
                sku(9),
            ],
        )
    )
    assert outcomes(results) == ["failed", "failed", "failed", "created"]
    assert (results[0].code, results[0].message) == (
        "VALIDATION_ERROR",
        "name - can't be blank (/data/attributes/name)",
    )
    assert (results[1].code, results[1].message) == (
        "INVALID_RECORD",
        "no shipping_categories with code 'nope'",
    )
    assert (
        results[2].message
        == "unit_of_weight - is not included in the list (/data/attributes/unit_of_weight)"
    )
    assert admin.requests("POST", "skus") == 3  # the unknown code never reached the platform


def test_records_with_one_key_in_a_batch_are_applied_in_order(
    platform: Platform, admin: Admin
) -> None:
    results = list(
        platform.upsert("skus", [sku(1), sku(1, name="Second"), sku(1, name="Second"), sku(2)])
    )
    assert outcomes(results) == ["created", "updated", "unchanged", "created"]
    [current] = platform.read("skus", filters={"q.code_eq": ["NEW-0001"]})
    assert current["name"] == "Second"


def test_dry_run_writes_nothing(platform: Platform, admin: Admin) -> None:
    list(platform.upsert("skus", [sku(1)]))
    admin.clear_counters()
    changed = sku(1, name="Changed")
    planned = list(platform.upsert("skus", [changed, sku(2), changed, sku(1)], dry_run=True))
    assert outcomes(planned) == ["updated", "created", "unchanged", "updated"]
    # each update's fields, against what the records before it in the batch would leave
    assert planned[0].changes == (Change("name", "New 1", "Changed"),)
    assert planned[3].changes == (Change("name", "Changed", "New 1"),)
    assert admin.writes() == 0


def test_create_update_delete_by_id(platform: Platform, admin: Admin) -> None:
    writer = platform.writer("shipping_categories")
    made = writer.create({"name": "Fragile", "code": "fragile"})
    assert made.outcome == "created"
    assert made.id is not None
    assert writer.update(made.id, {"name": "Very fragile"}).outcome == "updated"
    [by_id] = platform.upsert("shipping_categories", [{"id": made.id, "name": "Very fragile"}])
    assert by_id.outcome == "unchanged"
    assert writer.delete(made.id).outcome == "deleted"
    gone = writer.delete(made.id)
    assert (gone.outcome, gone.code) == ("failed", "RECORD_NOT_FOUND")
    [missing] = platform.upsert("shipping_categories", [{"id": made.id, "name": "x"}])
    assert (missing.outcome, missing.code) == ("failed", "RECORD_NOT_FOUND")


def test_a_create_whose_key_is_taken_becomes_an_update(platform: Platform, admin: Admin) -> None:
    list(platform.upsert("skus", [sku(1)]))
    writer = platform.writer("skus")
    assert writer.create(sku(1)).outcome == "unchanged"  # 422 taken: planned again, equal
    assert writer.create(sku(1, name="Other")).outcome == "updated"
    assert admin.requests("POST", "skus") == 3


def test_a_failed_create_is_repeated_only_after_checking_the_key(
    platform: Platform, admin: Admin
) -> None:
    admin.fault(method="POST", path="^/api/skus$", status=503, count=1)
    [result] = platform.upsert("skus", [sku(1)])
    assert result.outcome == "created"
    assert admin.requests("POST", "skus") == 2
    assert len(list(platform.read("skus", filters={"q.code_eq": ["NEW-0001"]}))) == 1
    # a keyless record (an address) is never sent twice after a failure part-way
    admin.fault(method="POST", path="^/api/addresses$", status=503, count=1)
    address = {
        "line_1": "Via Po 1",
        "city": "Torino",
        "zip_code": "10100",
        "country_code": "IT",
        "phone": "+39 011 1",
        "company": "X",
        "business": True,
    }
    [failed] = platform.upsert("addresses", [address])
    assert (failed.outcome, failed.code) == ("failed", "SERVICE_UNAVAILABLE")
    assert admin.requests("POST", "addresses") == 1


def test_lookups_pack_100_keys_and_page_through_what_exists(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 300)
    records = [
        {"code": f"SKU-{n:05d}", "name": f"Sku {n}", "shipping_category": MERCHANDISE}
        for n in range(0, 420, 2)
    ]
    with watched(platform) as sent:
        results = list(platform.upsert("skus", records))
    assert outcomes(results) == ["unchanged"] * 150 + ["created"] * 60
    gets = [r for r in sent if r.method == "GET"]
    assert gets[0].url.params["page[size]"] == "1"  # 300 SKUs: too many to read instead
    filters = {r.url.params["filter[q][code_in]"] for r in gets[1:]}
    assert sorted(len(f.split(",")) for f in filters) == [10, 100, 100]
    assert sorted(c for f in filters for c in f.split(",")) == [r["code"] for r in records]
    # one request per page of what each filter finds: 100 found (4), 50 (2), none (1)
    assert len(gets) == 1 + 4 + 2 + 1


def test_in_filters_stay_short_enough_for_any_proxy() -> None:
    codes = [f"{n:03d}-" + "x" * 97 for n in range(40)]  # 100 characters each
    packed = list(in_lists(codes))
    assert [len(p) for p in packed] == [14, 14, 12]
    assert all(len(quote(",".join(p), safe="")) <= IN_CHARS for p in packed)
    assert [len(p) for p in in_lists(f"K{n}" for n in range(250))] == [100, 100, 50]
    assert [len(p) for p in in_lists(["ä ö/&=" * 40] * 3)] == [1, 1, 1]  # escaped: 3x longer


def test_a_small_scope_is_read_instead_of_looked_up(platform: Platform, admin: Admin) -> None:
    skus(admin, 300)
    prices = [
        {"sku_code": f"SKU-{n:05d}", "price_list": {"code": "eur"}, "amount_cents": 100}
        for n in range(300)
    ]
    with watched(platform) as sent:
        assert set(outcomes(platform.upsert("prices", prices))) == {"created"}
    looked = [r.url.params for r in sent if r.method == "GET" and r.url.path.endswith("/prices")]
    assert len(looked) == 2  # the price list holds no prices: a count and one empty page
    assert all(p["filter[q][price_list_id_eq]"] == EUR for p in looked)
    admin.clear_counters()
    prices[7]["amount_cents"] = 200
    assert outcomes(platform.upsert("prices", prices)).count("updated") == 1
    # a count (300 prices: no cheaper to read), then 3 filters of 100 keys, 4 pages each
    assert admin.requests("GET", "prices") == 1 + 3 * 4
