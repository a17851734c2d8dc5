"""Declarative resource definitions, taken from the attribute tables of the Core API schema.

Only data lives here: which attributes exist with which flags (required / creatable / updatable
/ filterable / sortable), the to-one relationships with their targets, the to-many
relationships as inverses of a to-one on the target, uniqueness rules and import keys.
Behaviour (derived fields, triggers, extra validations) lives in `behaviours.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Kind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    OBJECT = "object"
    ARRAY = "array"
    JSON = "json"  # any JSON value, e.g. import inputs (an array, or a CSV string)


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    creatable: bool = True
    updatable: bool = True
    filterable: bool = False
    sortable: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    # Triggers (`_place`, `_disable`, …) are accepted on writes and never stored or rendered.
    trigger: bool = False
    # Write-only secrets such as `password` are stored but never rendered.
    readable: bool = True


def attr(name: str, kind: Kind = Kind.STRING, **flags: Any) -> Attribute:
    return Attribute(name, kind, **flags)


def read_only(name: str, kind: Kind = Kind.STRING, **flags: Any) -> Attribute:
    return Attribute(name, kind, creatable=False, updatable=False, **flags)


def searchable(name: str, kind: Kind = Kind.STRING, **flags: Any) -> Attribute:
    """Creatable, updatable, filterable and sortable: the most common combination."""
    return Attribute(name, kind, filterable=True, sortable=True, **flags)


def trigger(name: str, *, creatable: bool = False) -> Attribute:
    return Attribute(name, Kind.BOOLEAN, creatable=creatable, updatable=True, trigger=True)


OnDelete = Literal["cascade", "restrict", "nullify"]


@dataclass(frozen=True)
class HasOne:
    name: str
    target: str
    required: bool = False
    creatable: bool = True
    updatable: bool = True
    # What happens to this record when the target is deleted.
    on_target_delete: OnDelete = "restrict"
    # An attribute that may name the target by its `code` instead (`sku_code` → sku).
    code_attribute: str | None = None


@dataclass(frozen=True)
class HasMany:
    name: str
    target: str
    inverse: str  # the HasOne on `target` that points back here


@dataclass(frozen=True)
class Unique:
    fields: tuple[str, ...]  # attribute or to-one relationship names; the first gets the error
    case_insensitive: bool = False


@dataclass(frozen=True)
class Resource:
    type: str
    attributes: tuple[Attribute, ...]
    has_one: tuple[HasOne, ...] = ()
    has_many: tuple[HasMany, ...] = ()
    unique: tuple[Unique, ...] = ()
    # Cacheable GETs have their own, higher rate limits (facts §5).
    cacheable: bool = False
    # Keys an import upserts by (each entry a tuple of input fields), tried in order.
    import_keys: tuple[tuple[str, ...], ...] = ()
    importable: bool = False
    # The to-one relationship an import's `parent_resource_id` fills in.
    import_parent: str | None = None
    numbered: bool = False  # has a read-only numeric `number`
    attribute_map: dict[str, Attribute] = field(init=False, repr=False, compare=False)
    has_one_map: dict[str, HasOne] = field(init=False, repr=False, compare=False)
    has_many_map: dict[str, HasMany] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        attributes = self.attributes + COMMON_ATTRIBUTES
        object.__setattr__(self, "attributes", attributes)
        object.__setattr__(self, "attribute_map", {a.name: a for a in attributes})
        object.__setattr__(self, "has_one_map", {r.name: r for r in self.has_one})
        object.__setattr__(self, "has_many_map", {r.name: r for r in self.has_many})

    def relationship_names(self) -> list[str]:
        return [r.name for r in self.has_one] + [r.name for r in self.has_many]

    def target_of(self, relationship: str) -> str | None:
        if relationship in self.has_one_map:
            return self.has_one_map[relationship].target
        if relationship in self.has_many_map:
            return self.has_many_map[relationship].target
        return None

    def is_filterable(self, name: str) -> bool:
        if name in TIMESTAMP_FIELDS or name == "id":
            return True
        found = self.attribute_map.get(name)
        return found is not None and found.filterable

    def is_sortable(self, name: str) -> bool:
        if name in TIMESTAMP_FIELDS or name == "id":
            return True
        found = self.attribute_map.get(name)
        return found is not None and found.sortable

    def readable_attributes(self) -> list[Attribute]:
        return [a for a in self.attributes if a.readable and not a.trigger]


TIMESTAMP_FIELDS = ("created_at", "updated_at")

# On every resource (appendix intro). Timestamps are kept on the record, not among attributes.
COMMON_ATTRIBUTES = (
    searchable("reference"),
    searchable("reference_origin"),
    attr("metadata", Kind.OBJECT, filterable=True, default={}),
)

INT, FLOAT, BOOL, TIME, OBJ, ARR = (
    Kind.INTEGER,
    Kind.FLOAT,
    Kind.BOOLEAN,
    Kind.DATETIME,
    Kind.OBJECT,
    Kind.ARRAY,
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        "skus",
        (
            searchable("code", required=True),
            searchable("name", required=True),
            attr("description", filterable=True),
            attr("image_url", filterable=True),
            attr("pieces_per_pack", INT),
            attr("weight", FLOAT),
            attr("unit_of_weight", choices=("gr", "oz", "lb")),
            attr("hs_tariff_number"),
            searchable("do_not_ship", BOOL, default=False),
            searchable("do_not_track", BOOL, default=False),
            # Computed on single-resource GETs only (`behaviours.sku_inventory`).
            read_only("inventory", OBJ),
        ),
        has_one=(HasOne("shipping_category", "shipping_categories", required=True),),
        has_many=(
            HasMany("prices", "prices", "sku"),
            HasMany("stock_items", "stock_items", "sku"),
        ),
        unique=(Unique(("code",)),),
        cacheable=True,
        import_keys=(("code",),),
        importable=True,
    ),
    Resource(
        "shipping_categories",
        (searchable("name", required=True), searchable("code")),
        has_many=(HasMany("skus", "skus", "shipping_category"),),
        unique=(Unique(("code",)),),
        import_keys=(("code",), ("name",)),
        importable=True,
    ),
    Resource(
        "price_lists",
        (
            searchable("name", required=True),
            searchable("code"),
            searchable("currency_code", required=True),
            searchable("tax_included", BOOL, default=True),
            attr("rules", OBJ, filterable=True),
            read_only("rule_outcomes", OBJ),
            read_only("resource_payload", OBJ),
        ),
        has_many=(HasMany("prices", "prices", "price_list"),),
        unique=(Unique(("code",)),),
        cacheable=True,
    ),
    Resource(
        "prices",
        (
            read_only("currency_code"),
            attr("sku_code"),
            searchable("amount_cents", INT, required=True),
            read_only("amount_float", FLOAT),
            read_only("formatted_amount"),
            read_only("original_amount_cents", INT),
            read_only("formatted_original_amount"),
            searchable("compare_at_amount_cents", INT),
            read_only("compare_at_amount_float", FLOAT),
            read_only("formatted_compare_at_amount"),
            read_only("rule_outcomes", OBJ),
            attr("rules", OBJ, filterable=True),
            read_only("resource_payload", OBJ),
        ),
        has_one=(
            HasOne("price_list", "price_lists", required=True, on_target_delete="cascade"),
            HasOne(
                "sku", "skus", required=True, on_target_delete="cascade", code_attribute="sku_code"
            ),
        ),
        unique=(Unique(("sku", "price_list")),),
        cacheable=True,
        import_keys=(("sku_code", "price_list_id"),),
        import_parent="price_list",
        importable=True,
    ),
    Resource(
        "stock_items",
        (
            attr("sku_code"),
            searchable("quantity", INT, required=True),
            trigger("_validate"),
        ),
        has_one=(
            HasOne("stock_location", "stock_locations", required=True, on_target_delete="cascade"),
            HasOne(
                "sku", "skus", required=True, on_target_delete="cascade", code_attribute="sku_code"
            ),
        ),
        unique=(Unique(("sku", "stock_location")),),
        cacheable=True,
        import_keys=(("sku_code", "stock_location_id"),),
        import_parent="stock_location",
        importable=True,
    ),
    Resource(
        "stock_locations",
        (
            read_only("number", INT),
            searchable("name", required=True),
            searchable("code"),
            searchable("label_format", default="PDF", choices=("PDF", "ZPL", "EPL2", "PNG")),
            searchable("suppress_etd", BOOL, default=False),
        ),
        has_one=(HasOne("address", "addresses", required=True),),
        has_many=(
            HasMany("inventory_stock_locations", "inventory_stock_locations", "stock_location"),
            HasMany("stock_items", "stock_items", "stock_location"),
        ),
        unique=(Unique(("code",)),),
        cacheable=True,
        numbered=True,
    ),
    Resource(
        "markets",
        (
            read_only("number", INT),
            searchable("name", required=True),
            searchable("code"),
            attr("facebook_pixel_id"),
            attr("checkout_url"),
            attr("external_prices_url"),
            attr("external_order_validation_url"),
            read_only("private", BOOL, default=False),
            attr("shipping_cost_cutoff", INT),
            trigger("_disable", creatable=True),
            trigger("_enable", creatable=True),
            read_only("disabled_at", TIME, filterable=True, sortable=True),
            read_only("shared_secret"),
            trigger("_regenerate_shared_secret"),
            attr("external_includes", ARR),
        ),
        has_one=(
            HasOne("merchant", "merchants", required=True),
            HasOne("price_list", "price_lists", required=True),
            HasOne("inventory_model", "inventory_models", required=True),
        ),
        unique=(Unique(("code",), case_insensitive=True),),
        cacheable=True,
        numbered=True,
    ),
    Resource(
        "merchants",
        (searchable("name", required=True),),
        has_one=(HasOne("address", "addresses", required=True),),
    ),
    Resource(
        "inventory_models",
        (
            searchable("name", required=True),
            searchable("code"),
            searchable(
                "strategy",
                default="no_split",
                choices=(
                    "no_split",
                    "split_shipments",
                    "ship_from_primary",
                    "ship_from_first_available_or_primary",
                ),
            ),
            searchable("stock_locations_cutoff", INT, default=2),
            searchable("stock_reservation_cutoff", INT, default=3600),
            attr("put_stock_transfers_on_hold", BOOL, default=False),
            attr("manual_stock_decrement", BOOL, default=False),
        ),
        has_many=(
            HasMany("inventory_stock_locations", "inventory_stock_locations", "inventory_model"),
        ),
        unique=(Unique(("code",)),),
    ),
    Resource(
        "inventory_stock_locations",
        (searchable("priority", INT, required=True), searchable("on_hold", BOOL, default=False)),
        has_one=(
            HasOne("stock_location", "stock_locations", required=True, on_target_delete="cascade"),
            HasOne(
                "inventory_model", "inventory_models", required=True, on_target_delete="cascade"
            ),
        ),
        unique=(Unique(("stock_location", "inventory_model")),),
    ),
    Resource(
        "customers",
        (
            searchable("email", required=True),
            attr("password", readable=False),
            read_only("status", filterable=True, sortable=True, default="prospect"),
            read_only("has_password", BOOL, default=False),
            read_only("total_orders_count", INT, filterable=True, sortable=True, default=0),
            attr("shopper_reference"),
            attr("profile_id"),
            attr("tax_exemption_code"),
            read_only("anonymization_info", OBJ),
            read_only("anonymization_status", filterable=True, sortable=True),
        ),
        has_many=(
            HasMany("customer_addresses", "customer_addresses", "customer"),
            HasMany("orders", "orders", "customer"),
        ),
        unique=(Unique(("email",), case_insensitive=True),),
        import_keys=(("email",),),
        importable=True,
    ),
    Resource(
        "addresses",
        (
            attr("business", BOOL, filterable=True, default=False),
            attr("first_name", filterable=True),
            attr("last_name", filterable=True),
            attr("company", filterable=True),
            read_only("full_name"),
            attr("line_1", required=True, filterable=True),
            attr("line_2", filterable=True),
            searchable("city", required=True),
            attr("zip_code", required=True, filterable=True),
            searchable("state_code"),
            searchable("country_code", required=True),
            attr("phone", required=True, filterable=True),
            read_only("full_address"),
            read_only("name"),
            attr("email", filterable=True),
            attr("notes", filterable=True),
            attr("lat", FLOAT, filterable=True),
            attr("lng", FLOAT, filterable=True),
            read_only("is_localized", BOOL, default=False),
            read_only("is_geocoded", BOOL, default=False),
            read_only("provider_name"),
            read_only("map_url"),
            read_only("static_map_url"),
            attr("billing_info", filterable=True),
        ),
        importable=True,
    ),
    Resource(
        "customer_addresses",
        (
            read_only("name"),
            attr("customer_email", updatable=False, filterable=True),
        ),
        has_one=(
            HasOne("customer", "customers", required=True, on_target_delete="cascade"),
            HasOne("address", "addresses", required=True, on_target_delete="cascade"),
        ),
        unique=(Unique(("address", "customer")),),
        import_parent="customer",
        importable=True,
    ),
    Resource(
        "orders",
        (
            searchable("number"),
            searchable("affiliate_code"),
            attr("autorefresh", BOOL, default=True),
            searchable("place_async", BOOL, default=False),
            read_only("status", filterable=True, sortable=True, default="draft"),
            read_only("payment_status", filterable=True, sortable=True, default="unpaid"),
            read_only("fulfillment_status", filterable=True, sortable=True, default="unfulfilled"),
            searchable("guest", BOOL),
            read_only("editable", BOOL, default=True),
            attr("customer_email", filterable=True),
            attr("customer_password", readable=False),
            searchable("language_code", default="en"),
            read_only("currency_code", filterable=True, sortable=True),
            read_only("tax_included", BOOL, filterable=True, sortable=True),
            attr("freight_taxable", BOOL, default=False),
            attr("payment_method_taxable", BOOL, default=False),
            attr("adjustment_taxable", BOOL, default=False),
            attr("gift_card_taxable", BOOL, default=False),
            read_only("country_code", filterable=True, sortable=True),
            attr("shipping_country_code_lock"),
            searchable("coupon_code"),
            searchable("gift_card_code"),
            attr("gift_card_or_coupon_code"),
            read_only("subtotal_amount_cents", INT, filterable=True, sortable=True, default=0),
            read_only("subtotal_amount_float", FLOAT),
            read_only("formatted_subtotal_amount"),
            read_only("shipping_amount_cents", INT, filterable=True, sortable=True, default=0),
            read_only("discount_amount_cents", INT, filterable=True, sortable=True, default=0),
            read_only("total_tax_amount_cents", INT, filterable=True, sortable=True, default=0),
            read_only("total_amount_cents", INT, filterable=True, sortable=True, default=0),
            read_only("total_amount_float", FLOAT),
            read_only("formatted_total_amount"),
            read_only("skus_count", INT, default=0),
            read_only("line_items_count", INT, default=0),
            attr("cart_url"),
            attr("return_url"),
            attr("terms_url"),
            attr("privacy_url"),
            trigger("_archive"),
            trigger("_unarchive"),
            trigger("_pending"),
            trigger("_place"),
            trigger("_cancel"),
            trigger("_approve"),
            trigger("_refresh"),
            read_only("placed_at", TIME, filterable=True, sortable=True),
            read_only("approved_at", TIME, filterable=True, sortable=True),
            read_only("cancelled_at", TIME, filterable=True, sortable=True),
            read_only("payment_updated_at", TIME, filterable=True, sortable=True),
            read_only("fulfillment_updated_at", TIME, filterable=True, sortable=True),
            read_only("archived_at", TIME, filterable=True, sortable=True),
            searchable("expires_at", TIME),
            attr("expiration_info", OBJ),
        ),
        has_one=(
            HasOne("market", "markets"),  # required unless the token is scoped to one market
            HasOne("customer", "customers", on_target_delete="nullify"),
            HasOne("shipping_address", "addresses", on_target_delete="nullify"),
            HasOne("billing_address", "addresses", on_target_delete="nullify"),
        ),
        has_many=(
            HasMany("line_items", "line_items", "order"),
            HasMany("shipments", "shipments", "order"),
        ),
        unique=(Unique(("number",)),),
        import_keys=(("number",),),
        importable=True,
    ),
    Resource(
        "line_items",
        (
            attr("sku_code", filterable=True),
            attr("quantity", INT, required=True, filterable=True),
            read_only("currency_code", filterable=True, sortable=True),
            searchable("unit_amount_cents", INT),
            read_only("unit_amount_float", FLOAT),
            read_only("formatted_unit_amount"),
            searchable("compare_at_amount_cents", INT),
            attr("options_amount_cents", INT, creatable=False, filterable=True, sortable=True),
            read_only("total_amount_cents", INT, filterable=True, sortable=True),
            read_only("total_amount_float", FLOAT),
            read_only("formatted_total_amount"),
            searchable("name"),
            attr("image_url", filterable=True),
            attr("item_type", updatable=False, filterable=True, sortable=True),
            attr("frequency"),
        ),
        has_one=(
            HasOne("order", "orders", required=True, updatable=False, on_target_delete="cascade"),
            HasOne(
                "sku",
                "skus",
                creatable=False,
                updatable=False,
                on_target_delete="nullify",
                code_attribute="sku_code",
            ),
        ),
        import_parent="order",
        importable=True,
    ),
    Resource(
        "shipments",
        (
            attr("number", creatable=False, filterable=True, sortable=True),
            read_only("status", filterable=True, sortable=True, default="draft"),
            read_only("currency_code"),
            read_only("skus_count", INT, default=0),
            trigger("_upcoming"),
            trigger("_cancel"),
            trigger("_on_hold"),
            trigger("_picking"),
            trigger("_packing"),
            trigger("_ready_to_ship"),
            trigger("_ship"),
            trigger("_deliver"),
        ),
        has_one=(
            HasOne("order", "orders", required=True, updatable=False, on_target_delete="cascade"),
            HasOne("shipping_category", "shipping_categories", on_target_delete="nullify"),
            HasOne(
                "inventory_stock_location",
                "inventory_stock_locations",
                required=True,
                on_target_delete="nullify",
            ),
            HasOne(
                "stock_location",
                "stock_locations",
                creatable=False,
                updatable=False,
                on_target_delete="nullify",
            ),
            HasOne("shipping_address", "addresses", on_target_delete="nullify"),
        ),
    ),
    Resource(
        "imports",
        (
            attr("resource_type", required=True, updatable=False, filterable=True, sortable=True),
            attr("format", updatable=False, filterable=True, sortable=True, default="json"),
            attr("parent_resource_id", updatable=False, filterable=True, sortable=True),
            read_only("status", filterable=True, sortable=True, default="pending"),
            read_only("started_at", TIME, filterable=True, sortable=True),
            read_only("completed_at", TIME, filterable=True, sortable=True),
            read_only("interrupted_at", TIME, filterable=True, sortable=True),
            # Accepted on create, never rendered: `inputs` is not part of a read.
            attr("inputs", Kind.JSON, required=True, updatable=False, readable=False),
            read_only("inputs_size", INT, filterable=True, sortable=True),
            read_only("errors_count", INT, filterable=True, sortable=True, default=0),
            read_only("warnings_count", INT, filterable=True, sortable=True, default=0),
            read_only("destroyed_count", INT, filterable=True, sortable=True, default=0),
            read_only("processed_count", INT, filterable=True, sortable=True, default=0),
            read_only("errors_log", OBJ, filterable=True, default={}),
            read_only("warnings_log", OBJ, filterable=True, default={}),
            attr("cleanup_records", BOOL, updatable=False, default=False),
            attr("skip_errors", BOOL, updatable=False, default=False),
            read_only("attachment_url", filterable=True, sortable=True),
            trigger("_interrupt"),
        ),
        cacheable=True,
    ),
    Resource(
        "webhooks",
        (
            attr("name", filterable=True),
            attr("topic", required=True, filterable=True),
            attr("callback_url", required=True),
            attr("include_resources", ARR),
            trigger("_disable", creatable=True),
            trigger("_enable", creatable=True),
            read_only("disabled_at", TIME, filterable=True, sortable=True),
            read_only("circuit_state", filterable=True, sortable=True, default="closed"),
            read_only("circuit_failure_count", INT, filterable=True, sortable=True, default=0),
            trigger("_reset_circuit"),
            read_only("shared_secret"),
            trigger("_regenerate_shared_secret"),
        ),
    ),
)

BY_TYPE: dict[str, Resource] = {r.type: r for r in RESOURCES}


def referrers(resource_type: str) -> list[tuple[Resource, HasOne]]:
    """Every to-one relationship in the schema that points at `resource_type`."""
    return [(r, rel) for r in RESOURCES for rel in r.has_one if rel.target == resource_type]
