"""The data every sandbox starts with, and returns to on reset.

Ids derive from each record's natural key, so they are identical on every start: a token
scoped `market:code:europe` (or `market:id:<id>`) works right away and tests can hard-code ids.
"""

from __future__ import annotations

from typing import Any

from .ids import stable_hex, stable_id
from .schema import BY_TYPE
from .store import Store
from .writes import WriteContext, save

MARKET_CODE = "europe"
PRICE_LIST_CODE = "eur"
STOCK_LOCATION_CODE = "eu-warehouse"
SHIPPING_CATEGORY_CODE = "merchandise"
INVENTORY_MODEL_CODE = "default"


def baseline_id(resource_type: str, key: str) -> str:
    return stable_id("baseline", resource_type, key)


def _address(line_1: str, city: str, zip_code: str) -> dict[str, Any]:
    return {
        "business": True,
        "company": "Cartwire Sandbox",
        "line_1": line_1,
        "city": city,
        "zip_code": zip_code,
        "country_code": "IT",
        "phone": "+39 02 1234567",
        "email": "sandbox@cartwire.invalid",
    }


# (type, natural key, attributes, to-one relationships as (name, type, key))
_RECORDS: list[tuple[str, str, dict[str, Any], list[tuple[str, str, str]]]] = [
    ("addresses", "merchant", _address("Via Roma 1", "Milano", "20121"), []),
    ("addresses", "warehouse", _address("Via Torino 2", "Milano", "20123"), []),
    (
        "merchants",
        "cartwire",
        {"name": "Cartwire Sandbox Merchant"},
        [("address", "addresses", "merchant")],
    ),
    (
        "shipping_categories",
        SHIPPING_CATEGORY_CODE,
        {"name": "Merchandise", "code": SHIPPING_CATEGORY_CODE},
        [],
    ),
    (
        "price_lists",
        PRICE_LIST_CODE,
        {"name": "EUR Price List", "code": PRICE_LIST_CODE, "currency_code": "EUR"},
        [],
    ),
    (
        "inventory_models",
        INVENTORY_MODEL_CODE,
        {"name": "Default inventory model", "code": INVENTORY_MODEL_CODE},
        [],
    ),
    (
        "stock_locations",
        STOCK_LOCATION_CODE,
        {"name": "EU Warehouse", "code": STOCK_LOCATION_CODE},
        [("address", "addresses", "warehouse")],
    ),
    (
        "inventory_stock_locations",
        f"{INVENTORY_MODEL_CODE}/{STOCK_LOCATION_CODE}",
        {"priority": 1},
        [
            ("stock_location", "stock_locations", STOCK_LOCATION_CODE),
            ("inventory_model", "inventory_models", INVENTORY_MODEL_CODE),
        ],
    ),
    (
        "markets",
        MARKET_CODE,
        {"name": "Europe", "code": MARKET_CODE},
        [
            ("merchant", "merchants", "cartwire"),
            ("price_list", "price_lists", PRICE_LIST_CODE),
            ("inventory_model", "inventory_models", INVENTORY_MODEL_CODE),
        ],
    ),
]


def seed(store: Store) -> None:
    """Create the baseline records through the normal write path, with stable ids."""
    ctx = WriteContext(store)
    for resource_type, key, attributes, links in _RECORDS:
        record = save(
            ctx,
            BY_TYPE[resource_type],
            None,
            attributes,
            {name: baseline_id(target, target_key) for name, target, target_key in links},
            new_id=baseline_id(resource_type, key),
        )
        if resource_type == "markets":
            record.attrs["shared_secret"] = stable_hex(32, "baseline", "market", key)
