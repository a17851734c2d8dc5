"""Product upserts against the sandbox: each kind of difference becomes exactly its update
actions (one request per product), and the product written back equals the draft, so the next
upsert of the same draft makes no write."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from cartwire.platforms.commercetools.base import CtWriter
from cartwire.resources import Platform, WriteResult
from cartwire.resources.writer import Change
from tests.platforms.ct_support import Admin, category, product, product_type

Json = dict[str, Any]


@pytest.fixture
def admin(admin: Admin) -> Admin:
    """The conftest's admin, after loading what the product drafts refer to."""
    admin.load("product-type", [product_type()])
    admin.load("category", [category("shirts"), category("sale")])
    admin.load("tax-category", [{"key": "standard", "name": "Standard", "rates": []}])
    return admin


def draft(**fields: Any) -> Json:
    return product(1, **{"categories": [{"typeId": "category", "key": "shirts"}], **fields})


def upsert_one(platform: Platform, record: Json, **kw: Any) -> WriteResult:
    (result,) = platform.upsert("products", [record], **kw)
    return result


def test_create_then_unchanged(platform: Platform, admin: Admin) -> None:
    records = [draft(), product(2)]
    results = list(platform.upsert("products", records))
    assert [r.outcome for r in results] == ["created", "created"]
    assert results[0].record is not None
    current = results[0].record["masterData"]["current"]
    assert current["categories"][0]["typeId"] == "category"
    assert [v["sku"] for v in [current["masterVariant"], *current["variants"]]] == [
        "SKU-000001-M",
        "SKU-000001-L",
    ]
    admin.clear_counters()
    assert [r.outcome for r in platform.upsert("products", records)] == ["unchanged"] * 2
    assert admin.writes() == 0


def master(record: Json) -> Json:
    found: Json = record["masterVariant"]
    return found


def change_price(d: Json) -> None:
    master(d)["prices"][0]["value"]["centAmount"] = 999


def add_price(d: Json) -> None:
    master(d)["prices"].append({"value": {"currencyCode": "GBP", "centAmount": 1500}})


def remove_price(d: Json) -> None:
    master(d)["prices"].pop()


def add_and_reorder_image(d: Json) -> None:
    master(d)["images"].insert(0, {"url": "https://img.example.com/new.png"})


def remove_image(d: Json) -> None:
    master(d)["images"] = []


def set_attribute(d: Json) -> None:
    master(d)["attributes"][0]["value"] = "blue"


def unset_attribute(d: Json) -> None:
    master(d)["attributes"] = master(d)["attributes"][:1]


def add_variant(d: Json) -> None:
    d["variants"].append({"sku": "SKU-000001-XL", "attributes": [{"name": "size", "value": "XL"}]})


def remove_variant(d: Json) -> None:
    d["variants"] = []


def swap_master(d: Json) -> None:
    d["masterVariant"], d["variants"] = d["variants"][0], []


def relabel_image(d: Json) -> None:
    master(d)["images"][0]["label"] = "Front"


def recategorize(d: Json) -> None:
    d["categories"] = [{"typeId": "category", "key": "sale"}]


def rename(d: Json) -> None:
    d["name"] = {"en": "Polo"}  # merged: the German name stays


CHANGES: list[tuple[str, Callable[[Json], None], str]] = [
    ("name", rename, "changeName, publish"),
    ("slug", lambda d: d.update(slug={"en": "polo"}), "changeSlug, publish"),
    ("description", lambda d: d.update(description=None), "setDescription, publish"),
    ("meta", lambda d: d.update(metaTitle={"en": "Buy"}), "setMetaTitle, publish"),
    ("categories", recategorize, "removeFromCategory, addToCategory, publish"),
    (
        "tax-category",
        lambda d: d.update(taxCategory={"typeId": "tax-category", "key": "standard"}),
        "setTaxCategory",
    ),
    ("attribute", set_attribute, "setAttribute, publish"),
    ("attribute-removed", unset_attribute, "setAttribute, publish"),
    ("price-changed", change_price, "changePrice, publish"),
    ("price-added", add_price, "addPrice, publish"),
    ("price-removed", remove_price, "removePrice, publish"),
    ("image-added", add_and_reorder_image, "addExternalImage, moveImageToPosition, publish"),
    ("image-removed", remove_image, "removeImage, publish"),
    ("variant-added", add_variant, "addVariant, publish"),
    ("variant-removed", remove_variant, "removeVariant, publish"),
    ("master-swapped", swap_master, "changeMasterVariant, removeVariant, publish"),
    ("unpublished", lambda d: d.update(publish=False), "unpublish"),
    ("variant-key", lambda d: master(d).update(key="m"), "setProductVariantKey, publish"),
    ("image-label", relabel_image, "setImageLabel, publish"),
    (
        "search-keywords",
        lambda d: d.update(searchKeywords={"en": [{"text": "summer shirt"}]}),
        "setSearchKeywords, publish",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c[1], c[2]) for c in CHANGES], ids=[c[0] for c in CHANGES]
)
def test_each_difference_is_its_update_actions(
    platform: Platform, admin: Admin, change: Callable[[Json], None], expected: str
) -> None:
    assert upsert_one(platform, draft()).outcome == "created"
    desired = copy.deepcopy(draft())
    change(desired)
    assert upsert_one(platform, desired, dry_run=True).message == f"dry run: {expected}"
    admin.clear_counters()
    result = upsert_one(platform, desired)
    assert result.outcome == "updated"
    assert admin.writes() == 1  # all actions in one request
    # What the platform now has is what the draft says: the same draft again changes nothing.
    admin.clear_counters()
    assert upsert_one(platform, desired).outcome == "unchanged"
    assert admin.writes() == 0


def test_the_written_product_holds_the_draft(platform: Platform, admin: Admin) -> None:
    upsert_one(platform, draft())
    desired = copy.deepcopy(draft())
    rename(desired)
    change_price(desired)
    add_and_reorder_image(desired)
    add_variant(desired)
    recategorize(desired)
    result = upsert_one(platform, desired)
    assert result.record is not None
    data = result.record["masterData"]
    assert data["published"] is True
    assert data["hasStagedChanges"] is False
    current = data["current"]
    assert current["name"] == {"en": "Polo", "de": "Hemd 1"}
    prices = current["masterVariant"]["prices"]
    assert prices[0]["value"]["centAmount"] == 999
    images = [i["url"] for i in current["masterVariant"]["images"]]
    assert images[0] == "https://img.example.com/new.png"
    assert [v["sku"] for v in current["variants"]] == ["SKU-000001-L", "SKU-000001-XL"]
    sale = next(platform.read("categories", filters={"where": ['key = "sale"']}))
    assert [c["id"] for c in current["categories"]] == [sale["id"]]


def test_set_key_through_update_by_id(platform: Platform, admin: Admin) -> None:
    created = upsert_one(platform, draft())
    writer = platform.writer("products")
    assert isinstance(writer, CtWriter)
    assert created.id
    result = writer.update(created.id, {"key": "renamed"})
    assert result.outcome == "updated"
    assert result.record is not None
    assert result.record["key"] == "renamed"


def test_a_variant_without_sku_cannot_be_matched(platform: Platform, admin: Admin) -> None:
    upsert_one(platform, draft())
    desired = draft()
    desired["variants"].append({"attributes": []})
    admin.clear_counters()
    result = upsert_one(platform, desired)
    assert (result.outcome, result.code) == ("failed", "InvalidDraft")
    assert result.message == "every variant needs a sku: variants are matched by sku"
    assert admin.writes() == 0


def test_an_unknown_category_fails_with_the_platform_code(platform: Platform, admin: Admin) -> None:
    desired = draft(categories=[{"typeId": "category", "key": "nowhere"}])
    result = upsert_one(platform, desired)
    assert (result.outcome, result.code) == ("failed", "ReferencedResourceNotFound")
    assert result.message
    assert "nowhere" in result.message


def test_a_record_of_the_wrong_shape_fails_alone(platform: Platform, admin: Admin) -> None:
    upsert_one(platform, draft())
    broken = draft()
    master(broken)["attributes"] = [{"value": "no name"}]
    results = list(platform.upsert("products", [broken, product(2)]))
    assert [(r.outcome, r.code) for r in results] == [("failed", "InvalidDraft"), ("created", None)]
    assert results[0].message
    assert "shape of a draft" in results[0].message


def test_a_dry_run_tells_what_each_action_changes(platform: Platform, admin: Admin) -> None:
    """A field a setter sets, with the staged value it replaces; any other action as itself."""
    assert upsert_one(platform, draft()).outcome == "created"
    desired = draft(name={"en": "Renamed"})
    set_attribute(desired)
    result = upsert_one(platform, desired, dry_run=True)
    assert result.changes == (
        Change("name", {"en": "Shirt 1", "de": "Hemd 1"}, {"en": "Renamed", "de": "Hemd 1"}),
        Change("setAttribute sku=SKU-000001-M name=color", None, {"value": "blue"}),
        Change("publish", None, None),
    )
