"""Products: the ProductDraft a record is, diffed against the product's staged data.

Updates go to the staged data (commercetools' default), so the diff compares with
`masterData.staged`, and a draft with `"publish": true` publishes whenever staged and current
would differ afterwards. Variants are matched by SKU; within a variant, attributes by name,
embedded prices by their scope (currency, country, customer group, channel, validity) and
images by URL.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cartwire.platforms.commercetools.base import CtWriter, DraftError
from cartwire.platforms.commercetools.changes import Scoped, scoped
from cartwire.platforms.commercetools.compare import (
    Action,
    Json,
    Setter,
    is_reference,
    same,
    same_reference,
    setter_actions,
)

# Product fields outside the staged/current data.
PRODUCT = (
    Setter("key", "setKey"),
    Setter("taxCategory", "setTaxCategory"),
)
# Fields of the staged data.
PRODUCT_DATA = (
    Setter("name", "changeName", required=True),
    Setter("slug", "changeSlug", required=True),
    Setter("description", "setDescription"),
    Setter("metaTitle", "setMetaTitle"),
    Setter("metaDescription", "setMetaDescription"),
    Setter("metaKeywords", "setMetaKeywords"),
    Setter("searchKeywords", "setSearchKeywords", required=True),
)
VARIANT_DRAFT_FIELDS = ("sku", "key", "attributes", "prices", "images", "assets")


class ProductWriter(CtWriter):
    name = "ct_products"
    type_id = "product"

    def actions(self, current: Json, desired: Json) -> list[Action]:
        staged = current["masterData"]["staged"]
        data_actions = [
            *setter_actions(PRODUCT_DATA, staged, desired, self.replace),
            *category_actions(staged, desired),
            *variant_actions(staged, desired),
        ]
        return [
            *setter_actions(PRODUCT, current, desired, self.replace),
            *data_actions,
            *publish_actions(current["masterData"], desired, changes_staged=bool(data_actions)),
        ]

    def setters_in(self, current: Json) -> Scoped:
        return scoped((current, PRODUCT), (current["masterData"]["staged"], PRODUCT_DATA))


def category_actions(staged: Json, desired: Json) -> list[Action]:
    if "categories" not in desired:
        return []
    wanted = desired["categories"] or []
    have = staged.get("categories") or []
    removed = [h for h in have if not any(same_reference(w, h) for w in wanted)]
    added = [w for w in wanted if not any(same_reference(w, h) for h in have)]
    return [
        *(
            {"action": "removeFromCategory", "category": {"typeId": "category", "id": h["id"]}}
            for h in removed
        ),
        *({"action": "addToCategory", "category": w} for w in added),
    ]


def publish_actions(master: Json, desired: Json, *, changes_staged: bool) -> list[Action]:
    if "publish" not in desired:
        return []
    if desired["publish"]:
        if changes_staged or master.get("hasStagedChanges") or not master.get("published"):
            return [{"action": "publish"}]
    elif master.get("published"):
        return [{"action": "unpublish"}]
    return []


def variant_actions(staged: Json, desired: Json) -> list[Action]:
    """Add, re-master, remove, then change variants, in the order commercetools needs (a
    master variant cannot be removed before another one takes its place)."""
    if "masterVariant" not in desired and "variants" not in desired:
        return []
    have = [staged["masterVariant"], *(staged.get("variants") or [])]
    by_sku = {v["sku"]: v for v in have if v.get("sku")}
    master = desired.get("masterVariant")
    wanted = ([master] if master else []) + list(desired.get("variants") or [])
    for variant in wanted:
        if not variant.get("sku"):
            raise DraftError("every variant needs a sku: variants are matched by sku")

    actions: list[Action] = [
        {"action": "addVariant", **{k: v[k] for k in VARIANT_DRAFT_FIELDS if k in v}}
        for v in wanted
        if v["sku"] not in by_sku
    ]
    if master and staged["masterVariant"].get("sku") != master["sku"]:
        actions.append({"action": "changeMasterVariant", "sku": master["sku"]})
    if "variants" in desired:  # the whole list: variants not named go
        keep = {v["sku"] for v in wanted}
        if not master:
            keep.add(staged["masterVariant"].get("sku"))
        actions += [
            {"action": "removeVariant", **({"sku": v["sku"]} if v.get("sku") else {"id": v["id"]})}
            for v in have
            if v.get("sku") not in keep
        ]
    for variant in wanted:
        current = by_sku.get(variant["sku"])
        if current is not None:
            actions += variant_key_actions(current, variant)
            actions += attribute_actions(current, variant)
            actions += price_actions(current, variant)
            actions += image_actions(current, variant)
    return actions


def variant_key_actions(current: Json, desired: Json) -> list[Action]:
    if "key" not in desired or same(desired["key"], current.get("key")):
        return []
    action: Action = {"action": "setProductVariantKey", "sku": desired["sku"]}
    if desired["key"] is not None:
        action["key"] = desired["key"]  # no key: removes it
    return [action]


def attribute_actions(current: Json, desired: Json) -> list[Action]:
    if "attributes" not in desired:
        return []
    sku = desired["sku"]
    have = {a["name"]: a.get("value") for a in current.get("attributes") or []}
    want = {a["name"]: a.get("value") for a in desired["attributes"] or []}
    actions: list[Action] = []
    for name, value in want.items():
        if not same(value, have.get(name)):
            action: Action = {"action": "setAttribute", "sku": sku, "name": name}
            if value is not None:
                action["value"] = value
            actions.append(action)
    actions += [
        {"action": "setAttribute", "sku": sku, "name": name}  # no value: removes it
        for name, value in have.items()
        if name not in want and value is not None
    ]
    return actions


def price_scope(price: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes an embedded price distinct from its siblings (two prices of one variant may
    not share it)."""

    def ref(value: Any) -> Any:
        return (value.get("id") or f"key:{value['key']}") if is_reference(value) else None

    def instant(value: Any) -> Any:
        try:
            return datetime.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            return value

    return (
        (price.get("value") or {}).get("currencyCode"),
        price.get("country"),
        ref(price.get("customerGroup")),
        ref(price.get("channel")),
        instant(price.get("validFrom")),
        instant(price.get("validUntil")),
    )


def price_actions(current: Json, desired: Json) -> list[Action]:
    if "prices" not in desired:
        return []
    sku = desired["sku"]
    have = {price_scope(p): p for p in current.get("prices") or []}
    actions: list[Action] = []
    seen = set()
    for price in desired["prices"] or []:
        scope = price_scope(price)
        seen.add(scope)
        existing = have.get(scope)
        if existing is None:
            actions.append({"action": "addPrice", "sku": sku, "price": price})
        elif not same(price, existing):
            actions.append({"action": "changePrice", "priceId": existing["id"], "price": price})
    removed = [
        {"action": "removePrice", "priceId": p["id"]} for s, p in have.items() if s not in seen
    ]
    return removed + actions


def image_actions(current: Json, desired: Json) -> list[Action]:
    """Images by URL: remove, relabel, add, then move into the desired order."""
    if "images" not in desired:
        return []
    sku = desired["sku"]
    images = {i["url"]: i for i in desired["images"] or []}  # one per URL
    want = list(images)
    current_images = {i["url"]: i for i in current.get("images") or []}
    have = list(current_images)
    actions: list[Action] = [
        {"action": "removeImage", "sku": sku, "imageUrl": url} for url in have if url not in images
    ]
    for url, image in images.items():
        kept = current_images.get(url)
        if kept is not None and "label" in image and not same(image["label"], kept.get("label")):
            relabel: Action = {"action": "setImageLabel", "sku": sku, "imageUrl": url}
            if image["label"] is not None:
                relabel["label"] = image["label"]
            actions.append(relabel)
    order = [url for url in have if url in images]
    for url in want:
        if url not in order:
            actions.append({"action": "addExternalImage", "sku": sku, "image": images[url]})
            order.append(url)
    for position, url in enumerate(want):
        if order[position] != url:
            actions.append(
                {"action": "moveImageToPosition", "sku": sku, "imageUrl": url, "position": position}
            )
            order.remove(url)
            order.insert(position, url)
    return actions
