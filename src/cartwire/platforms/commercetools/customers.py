"""Customers: the CustomerDraft a record is, diffed field by field and address by address.

Addresses are matched by their `key` when they have one, otherwise by content (an address
without a key that changed is a new address); default shipping/billing addresses are draft
indexes into `addresses`, as on create. Custom fields merge field by field (`custom`). The
password is only ever sent on create (the platform never returns it to compare with).
"""

from typing import Any

from cartwire.platforms.commercetools.base import CtWriter
from cartwire.platforms.commercetools.changes import Scoped, scoped
from cartwire.platforms.commercetools.compare import (
    Action,
    Json,
    Setter,
    same_whole,
    setter_actions,
)
from cartwire.platforms.commercetools.custom import custom_actions

CUSTOMER = (
    Setter("email", "changeEmail", required=True),
    Setter("key", "setKey"),
    Setter("customerNumber", "setCustomerNumber"),
    Setter("externalId", "setExternalId"),
    Setter("firstName", "setFirstName"),
    Setter("middleName", "setMiddleName"),
    Setter("lastName", "setLastName"),
    Setter("title", "setTitle"),
    Setter("salutation", "setSalutation"),
    Setter("companyName", "setCompanyName"),
    Setter("dateOfBirth", "setDateOfBirth"),
    Setter("vatId", "setVatId"),
    Setter("locale", "setLocale"),
    Setter("customerGroup", "setCustomerGroup"),
    Setter("stores", "setStores"),
)
DEFAULT_ADDRESSES = (
    ("defaultShippingAddress", "defaultShippingAddressId", "setDefaultShippingAddress"),
    ("defaultBillingAddress", "defaultBillingAddressId", "setDefaultBillingAddress"),
)


class CustomerWriter(CtWriter):
    name = "ct_customers"
    type_id = "customer"

    def actions(self, current: Json, desired: Json) -> list[Action]:
        return [
            *setter_actions(CUSTOMER, current, desired, self.replace),
            *address_actions(current, desired),
            *custom_actions(current, desired, replace="custom" in self.replace),
        ]

    def setters_in(self, current: Json) -> Scoped:
        return scoped((current, CUSTOMER))

    def created(self, body: Json) -> Json:
        customer: Json = body.get("customer", body)  # a create answers {"customer": …}
        return customer


def address_actions(current: Json, desired: Json) -> list[Action]:
    if "addresses" not in desired:
        return []
    have: list[Json] = current.get("addresses") or []
    matched: set[str] = set()
    changes: list[Action] = []
    # For each desired address, how an action can point at it (None: a new address without a
    # key, which cannot be pointed at before the platform gives it an id).
    targets: list[dict[str, Any] | None] = []
    for address in desired["addresses"] or []:
        key = address.get("key")
        match = next(
            (
                h
                for h in have
                if h["id"] not in matched
                and (h.get("key") == key if key else same_whole(address, h))
            ),
            None,
        )
        if match is None:
            changes.append({"action": "addAddress", "address": address})
            targets.append({"addressKey": key} if key else None)
            continue
        matched.add(match["id"])
        targets.append({"addressId": match["id"]})
        if not same_whole(address, match):
            changes.append(
                {"action": "changeAddress", "addressId": match["id"], "address": address}
            )
    removed: list[Action] = [
        {"action": "removeAddress", "addressId": h["id"]} for h in have if h["id"] not in matched
    ]
    defaults: list[Action] = []
    for field, current_field, action in DEFAULT_ADDRESSES:
        index = desired.get(field)
        if not isinstance(index, int) or not 0 <= index < len(targets):
            continue
        target = targets[index]
        if target is not None and target.get("addressId", "") != current.get(current_field):
            defaults.append({"action": action, **target})
    return removed + changes + defaults
