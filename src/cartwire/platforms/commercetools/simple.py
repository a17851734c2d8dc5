"""Resources whose every difference is one top-level field and one update action.

Fields that commercetools does not let an update change (an inventory entry's SKU and supply
channel, a standalone price's SKU, currency and scope) are part of the natural key or fixed at
creation, so they never appear here.
"""

from typing import ClassVar

from cartwire.platforms.commercetools.base import CtWriter
from cartwire.platforms.commercetools.changes import Scoped, scoped
from cartwire.platforms.commercetools.compare import Action, Json, Setter, setter_actions
from cartwire.platforms.commercetools.custom import custom_actions


class SetterWriter(CtWriter):
    """The setters, and custom fields merged field by field (`custom`)."""

    setters: ClassVar[tuple[Setter, ...]]

    def actions(self, current: Json, desired: Json) -> list[Action]:
        return [
            *setter_actions(self.setters, current, desired, self.replace),
            *custom_actions(current, desired, replace="custom" in self.replace),
        ]

    def setters_in(self, current: Json) -> Scoped:
        return scoped((current, self.setters))


class InventoryWriter(SetterWriter):
    """Inventory entries by SKU and supply channel."""

    name = "ct_inventory"
    type_id = "inventory-entry"
    setters = (
        Setter("key", "setKey"),
        Setter("quantityOnStock", "changeQuantity", param="quantity", required=True),
        Setter("restockableInDays", "setRestockableInDays"),
        Setter("expectedDelivery", "setExpectedDelivery"),
    )


class CategoryWriter(SetterWriter):
    name = "ct_categories"
    type_id = "category"
    setters = (
        Setter("key", "setKey"),
        Setter("name", "changeName", required=True),
        Setter("slug", "changeSlug", required=True),
        Setter("description", "setDescription"),
        Setter("parent", "changeParent", required=True),
        Setter("metaTitle", "setMetaTitle"),
        Setter("metaDescription", "setMetaDescription"),
        Setter("metaKeywords", "setMetaKeywords"),
        Setter("orderHint", "changeOrderHint", required=True),
        Setter("externalId", "setExternalId"),
    )


class StandalonePriceWriter(SetterWriter):
    name = "ct_standalone_prices"
    type_id = "standalone-price"
    setters = (
        Setter("value", "changeValue", required=True),
        Setter("active", "setActive", required=True),
        Setter("discounted", "setDiscountedPrice"),
    )


class ChannelWriter(SetterWriter):
    name = "ct_channels"
    type_id = "channel"
    setters = (
        Setter("key", "changeKey", required=True),
        Setter("name", "changeName"),
        Setter("description", "changeDescription"),
        Setter("address", "setAddress"),
        Setter("geoLocation", "setGeoLocation"),
    )

    def actions(self, current: Json, desired: Json) -> list[Action]:
        """The setters, and the roles as a set: the platform keeps no order among them."""
        actions = super().actions(current, desired)
        if "roles" in desired:
            roles = list(dict.fromkeys(desired["roles"] or []))
            if set(roles) != set(current.get("roles") or []):
                actions.append({"action": "setRoles", "roles": roles})
        return actions


class OrderImportWriter(CtWriter):
    """Orders placed elsewhere, imported once: an order whose number exists stays as it is (an
    imported order is a record of what happened, not a draft to keep in step)."""

    name = "ct_order_import"
    type_id = "order"
    create_only = True

    def actions(self, current: Json, desired: Json) -> list[Action]:
        return []
