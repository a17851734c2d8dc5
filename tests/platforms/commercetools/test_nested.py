"""Objects other than custom fields (localized strings, a channel's address) merge into the
resource's: the update action carries the merged whole, so a write of `name.en` keeps
`name.de`; writing what is already there makes no request beyond the look-up; `replace` sends
the object as given."""

from typing import Any

import pytest

from cartwire.resources import Platform, WriteResult
from tests.platforms.ct_support import Admin, bare_product, category, channel, product_type

Json = dict[str, Any]
NAME = {"en": "Shirt", "de": "Hemd"}


@pytest.fixture
def admin(admin: Admin) -> Admin:
    admin.load("product-type", [product_type()])
    return admin


def upsert(platform: Platform, endpoint: str, record: Json, **kw: Any) -> WriteResult:
    (result,) = platform.upsert(endpoint, [record], **kw)
    return result


def staged_name(platform: Platform, id_: str | None) -> Json:
    found: Json = platform.api.request("GET", f"products/{id_}").json()
    name: Json = found["masterData"]["staged"]["name"]
    return name


def test_a_product_name_in_one_locale_keeps_the_others(platform: Platform, admin: Admin) -> None:
    created = upsert(platform, "products", {**bare_product(1), "name": NAME})
    english = {"key": "product-000001", "name": {"en": "Polo"}}

    dry = upsert(platform, "products", english, dry_run=True)
    assert [(c.field, c.old, c.new) for c in dry.changes or ()] == [
        ("name", NAME, {"en": "Polo", "de": "Hemd"})
    ]
    assert upsert(platform, "products", english).outcome == "updated"
    assert staged_name(platform, created.id) == {"en": "Polo", "de": "Hemd"}

    admin.clear_counters()
    assert upsert(platform, "products", english).outcome == "unchanged"
    assert admin.counted() == {f"GET /{admin.project}/products": 1}  # the look-up, no more
    assert upsert(platform, "products", {**english, "name": {"de": "Hemd"}}).outcome == "unchanged"
    assert admin.writes() == 0


def test_replace_sends_the_name_as_given(platform: Platform, admin: Admin) -> None:
    created = upsert(platform, "products", {**bare_product(1), "name": NAME})
    english = {"key": "product-000001", "name": {"en": "Polo"}}
    upsert(platform, "products", english)
    assert staged_name(platform, created.id) == {"en": "Polo", "de": "Hemd"}
    replaced = upsert(platform, "products", english, replace=frozenset({"name"}))
    assert replaced.outcome == "updated"
    assert staged_name(platform, created.id) == {"en": "Polo"}
    admin.clear_counters()
    again = upsert(platform, "products", english, replace=frozenset({"name"}))
    assert again.outcome == "unchanged"
    assert admin.writes() == 0


def test_a_category_name_and_description_merge(platform: Platform, admin: Admin) -> None:
    first = {**category("shirts"), "name": NAME, "description": {"en": "Shirts", "de": "Hemden"}}
    created = upsert(platform, "categories", first)
    partial = {"key": "shirts", "name": {"de": "Oberhemd"}, "description": {"en": "Tops"}}
    assert upsert(platform, "categories", partial).outcome == "updated"
    found = platform.api.request("GET", f"categories/{created.id}").json()
    assert found["name"] == {"en": "Shirt", "de": "Oberhemd"}
    assert found["description"] == {"en": "Tops", "de": "Hemden"}
    admin.clear_counters()
    assert upsert(platform, "categories", partial).outcome == "unchanged"
    assert upsert(platform, "categories", first | partial).outcome == "unchanged"
    assert admin.writes() == 0


def test_a_channel_address_written_in_part_keeps_the_rest(platform: Platform, admin: Admin) -> None:
    address = {"country": "DE", "city": "Berlin", "streetName": "Unter den Linden"}
    created = upsert(platform, "channels", {**channel("eu"), "address": address})
    moved = {"key": "eu", "address": {"city": "Potsdam"}, "name": {"de": "EU"}}
    assert upsert(platform, "channels", moved).outcome == "updated"
    found = platform.api.request("GET", f"channels/{created.id}").json()
    assert (found["address"]["country"], found["address"]["city"]) == ("DE", "Potsdam")
    assert found["address"]["streetName"] == "Unter den Linden", found["address"]
    assert found["name"] == {"en": "EU", "de": "EU"}
    admin.clear_counters()
    assert upsert(platform, "channels", moved).outcome == "unchanged"
    assert admin.writes() == 0

    here = {**moved, "address": {"country": "DE", "city": "Potsdam"}}
    replaced = upsert(platform, "channels", here, replace=frozenset({"address"}))
    assert replaced.outcome == "updated"
    found = platform.api.request("GET", f"channels/{created.id}").json()
    assert found["address"].get("streetName") is None, found["address"]
    assert found["name"] == {"en": "EU", "de": "EU"}  # only `address` was replaced
    admin.clear_counters()
    again = upsert(platform, "channels", here, replace=frozenset({"address"}))
    assert again.outcome == "unchanged"  # the address the platform gave an id is the same
    assert admin.writes() == 0
