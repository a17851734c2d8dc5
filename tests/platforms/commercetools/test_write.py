"""Writing commercetools records against the sandbox: create, update by diff, unchanged with no
write at all (counted at the sandbox), delete with version, conflicts re-read and re-applied,
failures with the platform's code, creates repeated only when that cannot duplicate, and bulk
upserts written concurrently."""

import asyncio
import threading
from collections import Counter
from typing import Any

import pytest

from cartwire.http.errors import NotFound
from cartwire.platforms.commercetools.base import CtWriter
from cartwire.resources import Platform, WriteResult
from cartwire.resources.writer import Change
from tests.platforms.ct_support import Admin, category, channel, customer
from tests.support import AsyncCountingTransport, CountingTransport, InFlight


def upsert(
    platform: Platform, endpoint: str, records: list[dict[str, Any]], **kw: Any
) -> list[WriteResult]:
    return list(platform.upsert(endpoint, records, **kw))


def outcomes(results: list[WriteResult]) -> list[str]:
    return [r.outcome for r in results]


def writer(platform: Platform, endpoint: str) -> CtWriter:
    found = platform.writer(endpoint)
    assert isinstance(found, CtWriter)
    return found


# -- create, update, unchanged -----------------------------------------------------------------


def test_create_update_then_unchanged_makes_no_write(platform: Platform, admin: Admin) -> None:
    records = [customer(n, firstName="Ada", password="secret") for n in range(3)]
    created = upsert(platform, "customers", records)
    assert outcomes(created) == ["created"] * 3
    assert [r.key for r in created] == [r["email"] for r in records]
    assert all(r.id and r.record and r.record["firstName"] == "Ada" for r in created)
    assert admin.requests("POST", "customers") == 3

    records[1] = {**records[1], "firstName": "Grace", "lastName": "Hopper"}
    admin.clear_counters()
    updated = upsert(platform, "customers", records)
    assert outcomes(updated) == ["unchanged", "updated", "unchanged"]
    assert updated[1].record is not None
    assert (updated[1].record["firstName"], updated[1].record["lastName"]) == ("Grace", "Hopper")
    assert admin.writes() == 1
    assert admin.requests("GET", "customers") == 1  # the three looked up together

    admin.clear_counters()
    assert outcomes(upsert(platform, "customers", records)) == ["unchanged"] * 3
    assert admin.writes() == 0


def test_the_version_comes_from_the_platform(platform: Platform, admin: Admin) -> None:
    (first,) = upsert(platform, "customers", [customer(1, password="x")])
    (second,) = upsert(platform, "customers", [customer(1, firstName="A", lastName="B")])
    assert first.record
    assert second.record
    current = platform.api.request("GET", f"customers/{first.id}").json()
    # The sandbox raises the version once per action (the real API may not): two actions.
    assert second.record["version"] == current["version"] == first.record["version"] + 2


def test_dry_run_writes_nothing(platform: Platform, admin: Admin) -> None:
    upsert(platform, "customers", [customer(1, password="x", firstName="A")])
    admin.clear_counters()
    records = [customer(1, firstName="B"), customer(2, password="x"), customer(1, firstName="A")]
    results = upsert(platform, "customers", records[:2], dry_run=True)
    assert outcomes(results) == ["updated", "created"]
    assert results[0].message == "dry run: setFirstName"
    assert results[0].changes == (Change("firstName", "A", "B"),)
    assert admin.writes() == 0
    (same,) = upsert(platform, "customers", records[2:], dry_run=True)
    assert same.outcome == "unchanged"


def test_records_sharing_a_natural_key_are_written_in_turn(
    platform: Platform, admin: Admin
) -> None:
    records = [customer(1, password="x", firstName="A"), customer(1, firstName="B")]
    assert outcomes(upsert(platform, "customers", records)) == ["created", "updated"]
    assert [r["firstName"] for r in platform.read("customers")] == ["B"]


def test_upsert_by_another_natural_key(platform: Platform) -> None:
    upsert(platform, "customers", [customer(1, password="x")])
    moved = {"key": "customer-000001", "email": "new@example.com"}
    (result,) = upsert(platform, "customers", [moved], key="key")
    assert (result.outcome, result.key) == ("updated", "customer-000001")
    assert [r["email"] for r in platform.read("customers")] == ["new@example.com"]


def test_customer_addresses_by_key_and_default(platform: Platform, admin: Admin) -> None:
    home = {"key": "home", "country": "DE", "city": "Berlin"}
    work = {"key": "work", "country": "DE", "city": "Hamburg"}
    base = customer(1, password="x", addresses=[home, work], defaultShippingAddress=0)
    upsert(platform, "customers", [base])
    moved = {**base, "addresses": [{**work, "city": "Bremen"}], "defaultShippingAddress": 0}
    (result,) = upsert(platform, "customers", [moved], dry_run=True)
    assert result.message == "dry run: removeAddress, changeAddress, setDefaultShippingAddress"
    (result,) = upsert(platform, "customers", [moved])
    assert result.record is not None
    (address,) = result.record["addresses"]
    assert (address["key"], address["city"]) == ("work", "Bremen")
    assert result.record["defaultShippingAddressId"] == address["id"]
    admin.clear_counters()
    assert outcomes(upsert(platform, "customers", [moved])) == ["unchanged"]
    assert admin.writes() == 0


# -- failures ---------------------------------------------------------------------------------


def test_a_bad_record_fails_with_the_platform_code_and_the_rest_are_written(
    platform: Platform,
) -> None:
    records = [
        customer(1, password="x"),
        customer(2, password="x", firstName=5),
        {"firstName": "no e-mail"},
        customer(3, password="x"),
    ]
    results = upsert(platform, "customers", records)
    assert outcomes(results) == ["created", "failed", "failed", "created"]
    assert results[1].code == "InvalidJsonInput"
    assert results[1].message
    assert "firstName" in results[1].message
    assert (results[2].code, results[2].message) == (None, "the record has no email to match it by")


def test_a_conflict_from_a_concurrent_change_is_reread_and_reapplied(
    platform: Platform, admin: Admin
) -> None:
    (created,) = upsert(platform, "customers", [customer(1, password="x", firstName="A")])
    path = f"customers/{created.id}"
    # Hold our update at the server, change the customer meanwhile, then let ours go on.
    admin.fault(method="POST", path=f"/{path}$", count=1, hold=True)
    results: list[WriteResult] = []
    ours = threading.Thread(
        target=lambda: results.extend(upsert(platform, "customers", [customer(1, firstName="B")]))
    )
    ours.start()
    held = admin.held()
    theirs = {"version": 1, "actions": [{"action": "setLastName", "lastName": "Theirs"}]}
    platform.api.request("POST", path, json=theirs)
    admin.release(held)
    ours.join()
    (result,) = results
    assert result.outcome == "updated"
    assert result.record is not None
    assert (result.record["firstName"], result.record["lastName"]) == ("B", "Theirs")
    assert admin.requests("POST", path) == 3  # ours (409), theirs, ours again
    assert platform.api.stats.statuses[409] == 1


def test_conflicts_beyond_the_retries_fail_with_the_platform_code(
    platform: Platform, admin: Admin
) -> None:
    (created,) = upsert(platform, "customers", [customer(1, password="x")])
    path = f"customers/{created.id}"
    admin.fault(method="POST", path=f"/{path}$", count=10, status=409)
    admin.clear_counters()
    (result,) = upsert(platform, "customers", [customer(1, firstName="B")])
    assert (result.outcome, result.code, result.id) == (
        "failed",
        "ConcurrentModification",
        created.id,
    )
    retries = writer(platform, "customers").conflict_retries
    assert admin.requests("POST", path) == retries + 1
    assert admin.requests("GET", path) == retries  # a re-read before each new attempt


def test_a_create_is_repeated_when_the_record_does_not_exist(
    platform: Platform, admin: Admin
) -> None:
    admin.fault(method="POST", path="/customers$", count=1, status=503)
    result = writer(platform, "customers").create(customer(1, password="x"))
    assert result.outcome == "created"
    assert admin.requests("POST", "customers") == 2
    assert len(list(platform.read("customers"))) == 1


def test_a_create_is_not_repeated_when_the_record_exists(platform: Platform, admin: Admin) -> None:
    admin.load("customer", [customer(1)])
    admin.fault(method="POST", path="/customers$", count=1, status=503)
    result = writer(platform, "customers").create(customer(1, password="x"))
    assert (result.outcome, result.code) == ("failed", "OverCapacity")
    assert admin.requests("POST", "customers") == 1


# -- create, update and delete by id ------------------------------------------------------------


def test_update_and_delete_by_id(platform: Platform, admin: Admin) -> None:
    ours = writer(platform, "customers")
    created = ours.create(customer(1, password="x"))
    assert created.outcome == "created"
    assert created.id
    assert ours.update(created.id, customer(1, firstName="C")).outcome == "updated"
    assert ours.update(created.id, customer(1, firstName="C")).outcome == "unchanged"

    # The sandbox checks a DELETE's version, as the platform does; a 409 re-reads it first.
    admin.fault(method="DELETE", path="/customers/", count=1, status=409)
    deleted = ours.delete(created.id)
    assert (deleted.outcome, deleted.id, deleted.key) == ("deleted", created.id, created.key)
    with pytest.raises(NotFound):
        platform.api.request("GET", f"customers/{created.id}")
    missing = ours.delete(created.id)
    assert (missing.outcome, missing.code) == ("failed", "ResourceNotFound")


# -- other collections ----------------------------------------------------------------------------


def test_inventory_by_sku_and_supply_channel(platform: Platform, admin: Admin) -> None:
    admin.load("channel", [channel("eu"), channel("us")])
    eu = {"typeId": "channel", "key": "eu"}
    us = {"typeId": "channel", "key": "us"}
    entries = [
        {"sku": "A", "quantityOnStock": 5, "supplyChannel": eu},
        {"sku": "A", "quantityOnStock": 7, "supplyChannel": us},
        {"sku": "A", "quantityOnStock": 9},
    ]
    created = upsert(platform, "inventory", entries)
    assert outcomes(created) == ["created"] * 3
    assert [r.key for r in created] == ["A/eu", "A/us", "A"]
    entries[1] = {**entries[1], "quantityOnStock": 1}
    admin.clear_counters()
    (_, changed, _) = upsert(platform, "inventory", entries, dry_run=True)
    assert changed.message == "dry run: changeQuantity"
    assert outcomes(upsert(platform, "inventory", entries)) == ["unchanged", "updated", "unchanged"]
    assert admin.writes() == 1
    assert sorted(r["quantityOnStock"] for r in platform.read("inventory")) == [1, 5, 9]


def test_inventory_with_an_unknown_channel_fails(platform: Platform) -> None:
    nowhere = {"typeId": "channel", "key": "nowhere"}
    (result,) = upsert(
        platform, "inventory", [{"sku": "A", "quantityOnStock": 1, "supplyChannel": nowhere}]
    )
    assert (result.outcome, result.code, result.key) == (
        "failed",
        "ReferencedResourceNotFound",
        "A/nowhere",
    )


def test_categories_parents_first_then_moves(platform: Platform, admin: Admin) -> None:
    tree = [category("men"), category("women"), category("shirts", parent="men")]
    assert outcomes(upsert(platform, "categories", tree)) == ["created"] * 3
    tree[2] = {**category("shirts", parent="women"), "name": {"en": "Blouses"}}
    (result,) = upsert(platform, "categories", tree[2:], dry_run=True)
    assert result.message == "dry run: changeName, changeParent"
    results = upsert(platform, "categories", tree)
    assert outcomes(results) == ["unchanged", "unchanged", "updated"]
    women = next(r for r in results if r.key == "women")
    assert results[2].record
    assert results[2].record["parent"]["id"] == women.id
    admin.clear_counters()
    assert outcomes(upsert(platform, "categories", tree)) == ["unchanged"] * 3
    assert admin.writes() == 0


def test_standalone_prices_change_value_and_activity(platform: Platform, admin: Admin) -> None:
    price = {"key": "a-eur", "sku": "A", "value": {"currencyCode": "EUR", "centAmount": 1000}}
    assert outcomes(upsert(platform, "standalone-prices", [price])) == ["created"]
    changed = {**price, "value": {"currencyCode": "EUR", "centAmount": 1200}, "active": True}
    (result,) = upsert(platform, "standalone-prices", [changed], dry_run=True)
    assert result.message == "dry run: changeValue, setActive"
    (result,) = upsert(platform, "standalone-prices", [changed])
    assert result.record
    assert result.record["value"]["centAmount"] == 1200
    assert result.record["active"] is True
    admin.clear_counters()
    assert outcomes(upsert(platform, "standalone-prices", [changed])) == ["unchanged"]
    assert admin.writes() == 0


def test_channels_change_name_and_address(platform: Platform, admin: Admin) -> None:
    upsert(platform, "channels", [channel("eu")])
    changed = {**channel("eu"), "name": {"en": "Europe"}, "address": {"country": "DE"}}
    (result,) = upsert(platform, "channels", [changed])
    assert result.outcome == "updated"
    assert result.record
    assert result.record["address"]["country"] == "DE"
    admin.clear_counters()
    assert outcomes(upsert(platform, "channels", [changed])) == ["unchanged"]
    assert admin.writes() == 0


def test_fields_with_their_own_update_actions(platform: Platform, admin: Admin) -> None:
    """Category order hint and external id, inventory key, channel roles (a set): each change
    is written, and the same record again is unchanged."""
    admin.load("channel", [channel("eu")])
    eu = {"typeId": "channel", "key": "eu"}
    records = {
        "categories": {**category("men"), "orderHint": "0.1", "externalId": "ext-men"},
        "inventory": {"sku": "A", "quantityOnStock": 5, "supplyChannel": eu, "key": "a-eu"},
        "channels": {**channel("eu"), "roles": ["InventorySupply", "ProductDistribution"]},
    }
    changed = {
        "categories": {**records["categories"], "orderHint": "0.9", "externalId": None},
        "inventory": {**records["inventory"], "key": "a-eu-2"},
        "channels": {**records["channels"], "roles": ["ProductDistribution", "Primary"]},
    }
    actions = {
        "categories": "changeOrderHint, setExternalId",
        "inventory": "setKey",
        "channels": "setRoles",
    }
    for endpoint, record in records.items():
        assert outcomes(upsert(platform, endpoint, [record])) == [
            "updated" if endpoint == "channels" else "created"
        ]
        (dry,) = upsert(platform, endpoint, [changed[endpoint]], dry_run=True)
        assert dry.message == f"dry run: {actions[endpoint]}"
        (result,) = upsert(platform, endpoint, [changed[endpoint]])
        assert result.outcome == "updated", result.message
        admin.clear_counters()
        again = {**changed[endpoint]}
        if endpoint == "channels":  # roles in another order are the same roles
            again["roles"] = list(reversed(again["roles"]))
        assert outcomes(upsert(platform, endpoint, [again])) == ["unchanged"]
        assert admin.writes() == 0
    [men] = platform.read("categories", filters={"where": ['key = "men"']})
    assert (men["orderHint"], men.get("externalId")) == ("0.9", None)
    [entry] = platform.read("inventory")
    assert entry["key"] == "a-eu-2"
    [eu_channel] = platform.read("channels", filters={"where": ['key = "eu"']})
    assert sorted(eu_channel["roles"]) == ["Primary", "ProductDistribution"]


def test_orders_are_imported_once(platform: Platform, admin: Admin) -> None:
    order = {
        "orderNumber": "CT-0001",
        "customerEmail": "ada@example.com",
        "totalPrice": {"currencyCode": "EUR", "centAmount": 4200},
        "orderState": "Open",
    }
    (created,) = upsert(platform, "orders/import", [order])
    assert (created.outcome, created.key) == ("created", "CT-0001")
    assert admin.requests("POST", "orders/import") == 1
    admin.clear_counters()
    changed = {**order, "totalPrice": {"currencyCode": "EUR", "centAmount": 1}}
    (again,) = upsert(platform, "orders/import", [changed])
    assert (again.outcome, again.id) == ("unchanged", created.id)
    assert admin.writes() == 0
    assert [o["orderNumber"] for o in platform.read("orders")] == ["CT-0001"]


# -- bulk ---------------------------------------------------------------------------------------


def test_bulk_upserts_run_concurrently_within_the_bound(platform: Platform, admin: Admin) -> None:
    counter = InFlight()
    platform.api.transport = CountingTransport(counter)
    platform.api.async_transport = AsyncCountingTransport(counter)
    entries: list[dict[str, Any]] = [
        {"sku": f"SKU-{n:05d}", "quantityOnStock": n} for n in range(1200)
    ]
    assert Counter(outcomes(upsert(platform, "inventory", entries))) == {"created": 1200}
    bound = writer(platform, "inventory").concurrency
    assert 1 < counter.most <= bound

    changed = [{**e, "quantityOnStock": e["quantityOnStock"] + 1} for e in entries]
    counter.most = 0
    admin.clear_counters()
    assert Counter(outcomes(upsert(platform, "inventory", changed))) == {"updated": 1200}
    assert 1 < counter.most <= bound
    assert admin.writes() == 1200
    assert admin.requests("GET", "inventory") == 12  # 1,200 SKUs looked up 100 at a time

    admin.clear_counters()
    assert Counter(outcomes(upsert(platform, "inventory", changed))) == {"unchanged": 1200}
    assert admin.writes() == 0


def test_async_upsert(platform: Platform) -> None:
    ours = writer(platform, "customers")

    async def run() -> list[WriteResult]:
        return [r async for r in ours.aupsert([customer(n, password="x") for n in range(20)])]

    assert outcomes(asyncio.run(run())) == ["created"] * 20
