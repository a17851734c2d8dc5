"""Per-type model behaviour: derived attributes, trigger attributes and extra validations.

`fill` gives new records their generated values (numbers, secrets) on creates and bulk loads;
`prepare` amends a proposed change before validation (scope defaults, lookups by email,
state-machine triggers, side effects to run after saving); `derive` recomputes stored
read-only attributes after every write and bulk load; `extras` adds attributes computed only
for single-resource GETs.
State transitions reject impossible moves like the `state_machines` gem does:
`status - cannot transition via "place"`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import writes
from .schema import BY_TYPE
from .store import Record, Store

if TYPE_CHECKING:
    from .writes import Change

MAX_IMPORT_INPUTS = 10_000
MAX_ACTIVE_IMPORTS = 10


@dataclass(frozen=True)
class Hooks:
    # Generated values of a new record (numbers, secrets), for creates and bulk loads alike.
    fill: Callable[[Store, dict[str, Any]], None] | None = None
    prepare: Callable[[Change], None] | None = None
    derive: Callable[[Store, Record], None] | None = None
    after_delete: Callable[[Store, Record], None] | None = None
    # After a bulk load of records of this type (which skips `prepare` side effects).
    after_load: Callable[[Store, list[Record]], None] | None = None
    extras: Callable[[Store, Record], dict[str, Any]] | None = None


# ---------------------------------------------------------------------------------------------
# Money, as the Ruby Money gem formats it for the currencies a sandbox meets.

# code → (symbol, exponent, decimal mark, thousands separator)
_CURRENCIES: dict[str, tuple[str, int, str, str]] = {
    "EUR": ("€", 2, ",", "."),
    "USD": ("$", 2, ".", ","),
    "GBP": ("£", 2, ".", ","),
    "CHF": ("CHF ", 2, ".", ","),
    "JPY": ("¥", 0, ".", ","),
}


def amount_float(cents: int | None, currency: str | None) -> float | None:
    if cents is None:
        return None
    exponent = _CURRENCIES.get(currency or "", ("", 2, ".", ","))[1]
    return cents / float(10**exponent)


def format_amount(cents: int | None, currency: str | None) -> str | None:
    if cents is None:
        return None
    symbol, exponent, decimal, thousands = _CURRENCIES.get(
        currency or "", ((currency or "") + " ", 2, ".", ",")
    )
    units, fraction = divmod(abs(cents), 10**exponent)
    text = f"{units:,}".replace(",", thousands)
    if exponent:
        text += decimal + f"{fraction:0{exponent}d}"
    return ("-" if cents < 0 else "") + symbol + text


def _related(store: Store, record: Record, relationship: str, target: str) -> Record | None:
    return store.get(target, record.rels.get(relationship))


def _transition(change: Change, event: str, sources: tuple[str, ...], target: str) -> bool:
    status = change.attrs.get("status")
    if status not in sources:
        change.fail("status", f'cannot transition via "{event}"', "invalid_transition")
        return False
    change.attrs["status"] = target
    return True


def _now(change: Change) -> int:
    return change.ctx.store.clock.tick()


# ---------------------------------------------------------------------------------------------
# Catalogue


def _prepare_sku(change: Change) -> None:
    record = change.record
    if record is None or "code" not in change.given:
        return
    old, new = record.attrs.get("code"), change.attrs.get("code")
    if old != new:
        store = change.ctx.store

        def propagate(sku: Record) -> None:
            # Prices and stock items show their SKU's current code.
            for child_type in ("prices", "stock_items"):
                for child in store.table(child_type).referring("sku", sku.id):
                    child.attrs["sku_code"] = new

        change.after.append(propagate)


def _sku_inventory(store: Store, record: Record) -> dict[str, Any]:
    items = store.table("stock_items").referring("sku", record.id)
    quantities = [item.attrs.get("quantity") or 0 for item in items]
    total = sum(quantities)
    return {
        "inventory": {
            "available": bool(record.attrs.get("do_not_track")) or total > 0,
            "quantity": total,
            "levels": [{"quantity": q, "delivery_lead_times": []} for q in quantities if q > 0],
        }
    }


def _prepare_price_list(change: Change) -> None:
    code = change.attrs.get("currency_code")
    if (
        isinstance(code, str)
        and code
        and not (len(code) == 3 and code.isalpha() and code.isupper())
    ):
        change.fail("currency_code", "is invalid", "invalid", value=code)


def _derive_price(store: Store, record: Record) -> None:
    attrs = record.attrs
    price_list = _related(store, record, "price_list", "price_lists")
    currency = price_list.attrs.get("currency_code") if price_list else None
    sku = _related(store, record, "sku", "skus")
    amount = attrs.get("amount_cents")
    compare = attrs.get("compare_at_amount_cents")
    if amount is not None and (compare is None or compare < amount):
        compare = amount  # "lower than amount is silently set equal" (API reference)
    attrs.update(
        currency_code=currency,
        sku_code=sku.attrs.get("code") if sku else attrs.get("sku_code"),
        amount_float=amount_float(amount, currency),
        formatted_amount=format_amount(amount, currency),
        original_amount_cents=amount,
        formatted_original_amount=format_amount(amount, currency),
        compare_at_amount_cents=compare,
        compare_at_amount_float=amount_float(compare, currency),
        formatted_compare_at_amount=format_amount(compare, currency),
    )


def _derive_stock_item(store: Store, record: Record) -> None:
    sku = _related(store, record, "sku", "skus")
    if sku is not None:
        record.attrs["sku_code"] = sku.attrs.get("code")


def _fill_numbered(store: Store, resource_type: str, attrs: dict[str, Any]) -> None:
    table = store.table(resource_type)
    number = attrs.get("number")
    if not isinstance(number, int):
        number = attrs["number"] = table.next_number
    table.next_number = max(table.next_number, number + 1)


def _fill_stock_location(store: Store, attrs: dict[str, Any]) -> None:
    _fill_numbered(store, "stock_locations", attrs)


def _fill_secret(store: Store, attrs: dict[str, Any]) -> None:
    if not attrs.get("shared_secret"):
        attrs["shared_secret"] = store.ids.hex(32)


def _fill_market(store: Store, attrs: dict[str, Any]) -> None:
    _fill_numbered(store, "markets", attrs)
    _fill_secret(store, attrs)


def _prepare_market(change: Change) -> None:
    if "_regenerate_shared_secret" in change.triggers:
        change.attrs["shared_secret"] = change.ctx.store.ids.hex(32)
    if "_disable" in change.triggers:
        change.attrs["disabled_at"] = _now(change)
    if "_enable" in change.triggers:
        change.attrs["disabled_at"] = None


# ---------------------------------------------------------------------------------------------
# Customers and addresses


def _fill_customer(store: Store, attrs: dict[str, Any]) -> None:
    for generated in ("shopper_reference", "profile_id"):
        if not attrs.get(generated):
            attrs[generated] = store.ids.hex(32)


def _prepare_customer(change: Change) -> None:
    email = change.attrs.get("email")
    if isinstance(email, str) and email and "@" not in email:
        change.fail("email", "is invalid", "invalid", value=email)
    if change.attrs.get("password"):
        change.attrs["has_password"] = True


def _prepare_address(change: Change) -> None:
    if change.attrs.get("business"):
        if writes.is_blank(change.attrs.get("company")):
            change.blank("company")
    else:
        for name in ("first_name", "last_name"):
            if writes.is_blank(change.attrs.get(name)):
                change.blank(name)


def _derive_address(store: Store, record: Record) -> None:
    a = record.attrs
    if a.get("business"):
        full_name = a.get("company") or ""
    else:
        full_name = " ".join(p for p in (a.get("first_name"), a.get("last_name")) if p)
    street = " ".join(p for p in (a.get("line_1"), a.get("line_2")) if p)
    place = " ".join(p for p in (a.get("zip_code"), a.get("city"), a.get("state_code")) if p)
    country = f"({a['country_code']})" if a.get("country_code") else ""
    full_address = " ".join(p for p in (f"{street}, {place}", country, a.get("phone")) if p)
    a.update(
        full_name=full_name,
        full_address=full_address,
        name=f"{full_name}, {full_address}",
        is_localized=a.get("lat") is not None and a.get("lng") is not None,
    )


def _prepare_customer_address(change: Change) -> None:
    email = change.attrs.get("customer_email")
    if change.rels.get("customer") is None and email:
        customer = change.ctx.store.table("customers").find_unique(("email",), (email,))
        if customer is not None:
            change.rels["customer"] = customer.id


def _derive_customer_address(store: Store, record: Record) -> None:
    address = _related(store, record, "address", "addresses")
    customer = _related(store, record, "customer", "customers")
    record.attrs["name"] = address.attrs.get("name") if address else None
    record.attrs["customer_email"] = customer.attrs.get("email") if customer else None


# ---------------------------------------------------------------------------------------------
# Orders, line items, shipments

_EDITABLE = ("draft", "pending")


def _fill_order(store: Store, attrs: dict[str, Any]) -> None:
    """Orders are numbered like the real default, a numeric string, unless given one."""
    if writes.is_blank(attrs.get("number")):
        table = store.table("orders")
        while table.find_unique(("number",), (str(table.next_number),)) is not None:
            table.next_number += 1
        attrs["number"] = str(table.next_number)
        table.next_number += 1


def _prepare_order(change: Change) -> None:
    store = change.ctx.store
    if change.creating:
        if change.rels.get("market") is None and len(change.ctx.scoped_markets) == 1:
            change.rels["market"] = change.ctx.scoped_markets[0]
        if change.rels.get("market") is None:
            change.blank("market", relationship=True)
    email = change.attrs.get("customer_email")
    if "customer_email" in change.given and isinstance(email, str) and email:
        customer = store.table("customers").find_unique(("email",), (email,))
        if customer is not None:
            change.rels["customer"] = customer.id
        else:
            change.after.append(lambda order: _create_customer_for(store, order, email))
    _order_triggers(change)


def _create_customer_for(store: Store, order: Record, email: str) -> None:
    customer = writes.save(
        writes.WriteContext(store), BY_TYPE["customers"], None, {"email": email}, {}
    )
    store.update(order, {}, {"customer": customer.id}, touch=False)


def _order_triggers(change: Change) -> None:
    triggers = change.triggers
    record = change.record
    if "_pending" in triggers:
        _transition(change, "pending", ("draft",), "pending")
    if "_place" in triggers:
        line_items = (
            change.ctx.store.table("line_items").referring("order", record.id) if record else []
        )
        if not line_items:
            change.fail("line_items", "can't be blank", "blank", relationship=True)
        if writes.is_blank(change.attrs.get("customer_email")):
            change.blank("customer_email")
        if _transition(change, "place", _EDITABLE, "placed"):
            change.attrs["placed_at"] = _now(change)
            change.after.append(lambda order: _after_place(change.ctx.store, order))
    if "_approve" in triggers and _transition(change, "approve", ("placed",), "approved"):
        change.attrs["approved_at"] = _now(change)
    if "_cancel" in triggers and _transition(change, "cancel", ("placed", "approved"), "cancelled"):
        change.attrs["cancelled_at"] = _now(change)
        change.after.append(lambda order: _cancel_shipments(change.ctx.store, order))
    if "_archive" in triggers:
        change.attrs["archived_at"] = _now(change)
    if "_unarchive" in triggers:
        change.attrs["archived_at"] = None


def _after_place(store: Store, order: Record) -> None:
    customer = _related(store, order, "customer", "customers")
    if customer is not None:
        count = (customer.attrs.get("total_orders_count") or 0) + 1
        status = "acquired" if count == 1 else "repeat"
        store.update(customer, {"total_orders_count": count, "status": status}, {})
    market = _related(store, order, "market", "markets")
    model_id = market.rels.get("inventory_model") if market else None
    if model_id is None or store.table("shipments").referring("order", order.id):
        return
    locations = store.table("inventory_stock_locations").referring("inventory_model", model_id)
    if not locations:
        return
    primary = min(locations, key=lambda r: r.attrs.get("priority") or 0)
    shipment = writes.save(
        writes.WriteContext(store),
        BY_TYPE["shipments"],
        None,
        {},
        {"order": order.id, "inventory_stock_location": primary.id},
    )
    store.update(shipment, {"status": "upcoming"}, {}, touch=False)


def _cancel_shipments(store: Store, order: Record) -> None:
    for shipment in store.table("shipments").referring("order", order.id):
        if shipment.attrs.get("status") not in ("shipped", "delivered", "cancelled"):
            store.update(shipment, {"status": "cancelled"}, {})


def _derive_order(store: Store, record: Record) -> None:
    a = record.attrs
    market = _related(store, record, "market", "markets")
    price_list = _related(store, market, "price_list", "price_lists") if market else None
    currency = price_list.attrs.get("currency_code") if price_list else None
    address = _related(store, record, "shipping_address", "addresses")
    line_items = store.table("line_items").referring("order", record.id)
    subtotal = sum(li.attrs.get("total_amount_cents") or 0 for li in line_items)
    total = subtotal + (a.get("shipping_amount_cents") or 0) + (a.get("discount_amount_cents") or 0)
    a.update(
        currency_code=currency,
        tax_included=price_list.attrs.get("tax_included") if price_list else None,
        country_code=address.attrs.get("country_code") if address else None,
        subtotal_amount_cents=subtotal,
        subtotal_amount_float=amount_float(subtotal, currency),
        formatted_subtotal_amount=format_amount(subtotal, currency),
        total_amount_cents=total,
        total_amount_float=amount_float(total, currency),
        formatted_total_amount=format_amount(total, currency),
        skus_count=sum(
            li.attrs.get("quantity") or 0
            for li in line_items
            if li.attrs.get("item_type") == "skus"
        ),
        line_items_count=len(line_items),
        editable=a.get("status") in _EDITABLE,
    )


def refresh_order(store: Store, order_id: str | None) -> None:
    """Recompute an order's totals after its line items changed; bump it if they moved."""
    order = store.get("orders", order_id)
    if order is None:
        return
    before = dict(order.attrs)
    _derive_order(store, order)
    if order.attrs != before:
        store.touch(order)


def _prepare_line_item(change: Change) -> None:
    store = change.ctx.store
    attrs = change.attrs
    if "sku_code" in change.given and attrs.get("sku_code") and change.rels.get("sku") is None:
        change.fail("sku", "can't be blank", "blank", relationship=True)
    sku = store.get("skus", change.rels.get("sku"))
    if change.creating and sku is not None:
        attrs["item_type"] = "skus"
        for name in ("name", "image_url"):
            if not attrs.get(name):
                attrs[name] = sku.attrs.get(name)
    if attrs.get("unit_amount_cents") is None and sku is not None:
        attrs["unit_amount_cents"] = _sku_price(store, change.rels.get("order"), sku.id)
    if attrs.get("unit_amount_cents") is None:
        change.blank("unit_amount_cents")
    quantity = attrs.get("quantity")
    if isinstance(quantity, int) and quantity <= 0:
        change.fail("quantity", "must be greater than 0", "greater_than", value=quantity, count=0)
    if change.creating:
        order_id = change.rels.get("order")
        change.after.append(lambda item: refresh_order(store, order_id))
    else:
        change.after.append(lambda item: refresh_order(store, item.rels.get("order")))


def _sku_price(store: Store, order_id: str | None, sku_id: str) -> int | None:
    order = store.get("orders", order_id)
    market = _related(store, order, "market", "markets") if order else None
    price_list_id = market.rels.get("price_list") if market else None
    if price_list_id is None:
        return None
    price = store.table("prices").find_unique(("sku", "price_list"), (sku_id, price_list_id))
    return price.attrs.get("amount_cents") if price else None


def _derive_line_item(store: Store, record: Record) -> None:
    a = record.attrs
    order = _related(store, record, "order", "orders")
    currency = order.attrs.get("currency_code") if order else None
    sku = _related(store, record, "sku", "skus")
    unit = a.get("unit_amount_cents")
    total = (
        None
        if unit is None
        else unit * (a.get("quantity") or 0) + (a.get("options_amount_cents") or 0)
    )
    a.update(
        currency_code=currency,
        sku_code=sku.attrs.get("code") if sku else a.get("sku_code"),
        unit_amount_float=amount_float(unit, currency),
        formatted_unit_amount=format_amount(unit, currency),
        total_amount_cents=total,
        total_amount_float=amount_float(total, currency),
        formatted_total_amount=format_amount(total, currency),
    )


def _line_item_deleted(store: Store, record: Record) -> None:
    refresh_order(store, record.rels.get("order"))


def _line_items_loaded(store: Store, records: list[Record]) -> None:
    for order_id in dict.fromkeys(r.rels.get("order") for r in records):
        refresh_order(store, order_id)


# event → (allowed from, to)
_SHIPMENT_EVENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "_upcoming": (("draft",), "upcoming"),
    "_on_hold": (("upcoming", "picking", "packing"), "on_hold"),
    "_picking": (("upcoming", "on_hold"), "picking"),
    "_packing": (("picking",), "packing"),
    "_ready_to_ship": (("packing",), "ready_to_ship"),
    "_ship": (("ready_to_ship",), "shipped"),
    "_deliver": (("shipped",), "delivered"),
    "_cancel": (
        ("draft", "upcoming", "on_hold", "picking", "packing", "ready_to_ship"),
        "cancelled",
    ),
}


def _prepare_shipment(change: Change) -> None:
    store = change.ctx.store
    if change.creating:
        order = store.get("orders", change.rels.get("order"))
        if order is not None:
            sequence = len(store.table("shipments").referring("order", order.id)) + 1
            change.attrs["number"] = f"{order.attrs.get('number')}/S/{sequence:03d}"
    for event, (sources, target) in _SHIPMENT_EVENTS.items():
        if event in change.triggers:
            _transition(change, event.lstrip("_"), sources, target)


def _derive_shipment(store: Store, record: Record) -> None:
    order = _related(store, record, "order", "orders")
    location = _related(store, record, "inventory_stock_location", "inventory_stock_locations")
    stock_location = location.rels.get("stock_location") if location else None
    if record.rels.get("stock_location") != stock_location:
        store.update(record, {}, {"stock_location": stock_location}, touch=False)
    line_items = store.table("line_items").referring("order", order.id) if order else []
    record.attrs.update(
        currency_code=order.attrs.get("currency_code") if order else None,
        skus_count=sum(li.attrs.get("quantity") or 0 for li in line_items if li.rels.get("sku")),
    )


# ---------------------------------------------------------------------------------------------
# Imports and webhooks


def _prepare_import(change: Change) -> None:
    attrs = change.attrs
    if change.creating:
        resource_type = attrs.get("resource_type")
        target = BY_TYPE.get(resource_type or "")
        if resource_type and (target is None or not target.importable):
            change.fail(
                "resource_type", "is not included in the list", "inclusion", value=resource_type
            )
        if attrs.get("format") not in ("json", "csv"):
            change.fail(
                "format", "is not included in the list", "inclusion", value=attrs.get("format")
            )
        inputs = attrs.get("inputs")
        if attrs.get("format") == "csv" and isinstance(inputs, str):
            inputs = attrs["inputs"] = list(csv.DictReader(io.StringIO(inputs)))
        if inputs is not None and not writes.is_blank(inputs):
            if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
                change.fail("inputs", "is invalid", "invalid")
            elif len(inputs) > MAX_IMPORT_INPUTS:
                change.fail(
                    "inputs",
                    f"is too long (maximum is {MAX_IMPORT_INPUTS} elements)",
                    "too_long",
                    count=MAX_IMPORT_INPUTS,
                )
            else:
                attrs["inputs_size"] = len(inputs)
        active = sum(
            1
            for r in change.ctx.store.all("imports")
            if r.attrs.get("status") in ("pending", "in_progress")
        )
        if active >= MAX_ACTIVE_IMPORTS:
            change.fail(
                "base",
                f"There are already {MAX_ACTIVE_IMPORTS} imports pending or in progress, "
                "please wait for one to complete",
                "too_many_imports",
            )
        enqueue = change.ctx.enqueue_import
        if enqueue is not None:
            change.after.append(enqueue)
    if "_interrupt" in change.triggers and _transition(
        change, "interrupt", ("pending", "in_progress"), "interrupted"
    ):
        attrs["interrupted_at"] = _now(change)


def _prepare_webhook(change: Change) -> None:
    if "_regenerate_shared_secret" in change.triggers:
        change.attrs["shared_secret"] = change.ctx.store.ids.hex(32)
    if "_disable" in change.triggers:
        change.attrs["disabled_at"] = _now(change)
    if "_enable" in change.triggers:
        change.attrs["disabled_at"] = None
    if "_reset_circuit" in change.triggers:
        change.attrs.update(circuit_state="closed", circuit_failure_count=0)


NO_HOOKS = Hooks()

HOOKS: dict[str, Hooks] = {
    "skus": Hooks(prepare=_prepare_sku, extras=_sku_inventory),
    "price_lists": Hooks(prepare=_prepare_price_list),
    "prices": Hooks(derive=_derive_price),
    "stock_items": Hooks(derive=_derive_stock_item),
    "stock_locations": Hooks(fill=_fill_stock_location),
    "markets": Hooks(fill=_fill_market, prepare=_prepare_market),
    "customers": Hooks(fill=_fill_customer, prepare=_prepare_customer),
    "addresses": Hooks(prepare=_prepare_address, derive=_derive_address),
    "customer_addresses": Hooks(prepare=_prepare_customer_address, derive=_derive_customer_address),
    "orders": Hooks(fill=_fill_order, prepare=_prepare_order, derive=_derive_order),
    "line_items": Hooks(
        prepare=_prepare_line_item,
        derive=_derive_line_item,
        after_delete=_line_item_deleted,
        after_load=_line_items_loaded,
    ),
    "shipments": Hooks(prepare=_prepare_shipment, derive=_derive_shipment),
    "imports": Hooks(prepare=_prepare_import),
    "webhooks": Hooks(fill=_fill_secret, prepare=_prepare_webhook),
}


def hooks_for(resource_type: str) -> Hooks:
    return HOOKS.get(resource_type, NO_HOOKS)
