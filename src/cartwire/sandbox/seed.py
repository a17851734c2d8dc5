"""Load the sample business into both sandboxes through their bulk-load admin endpoints.

One HTTP create per record would take hours for 100,000 products; `/_sandbox/load` takes
thousands of records per request and writes them straight into the server's store. Records are
streamed in chunks so memory stays flat whatever the catalogue size.
"""

import random
import string
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import httpx

from cartwire.sandbox.catalogue import (
    CATEGORIES,
    CHANNELS,
    COUNTRIES,
    MARKETS,
    PRODUCT_TYPES,
    Address,
    Catalogue,
    Customer,
    Order,
    Product,
)
from cartwire.sandbox.clients import api_client
from cartwire.sandbox.manager import Sandbox

Json = dict[str, Any]
CT_CHUNK = 2000
CL_CHUNK = 5000


@dataclass
class SeedReport:
    """What was loaded where, and how long each platform took."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, platform: str, kind: str, n: int) -> None:
        bucket = self.counts.setdefault(platform, {})
        bucket[kind] = bucket.get(kind, 0) + n


def _chunks(items: Iterable[Json], size: int) -> Iterator[list[Json]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


Progress = Callable[[str, int], None]


def existing_records(commercetools: Sandbox, commercelayer: Sandbox) -> dict[str, int]:
    """What the sandboxes hold beyond their empty baseline, by kind (kinds with none left out),
    so that `cartwire sandbox seed` can ask before it replaces someone's test data."""
    found: dict[str, int] = {}
    with api_client(commercetools) as client:
        for kind in ("products", "customers", "orders"):
            response = client.get(kind, params={"limit": 0})
            response.raise_for_status()
            found[f"commercetools {kind}"] = int(response.json()["total"])
    with api_client(commercelayer) as client:
        for kind in ("skus", "customers", "orders"):
            response = client.get(kind, params={"page[size]": 1})
            response.raise_for_status()
            found[f"Commerce Layer {kind}"] = int(response.json()["meta"]["record_count"])
    return {kind: n for kind, n in found.items() if n}


def seed(
    catalogue: Catalogue,
    commercetools: Sandbox,
    commercelayer: Sandbox,
    progress: Progress | None = None,
) -> SeedReport:
    """Reset both sandboxes and load `catalogue` into them."""
    report = SeedReport()
    tick = progress or (lambda _kind, _n: None)
    with httpx.Client(base_url=commercetools.url, timeout=300) as client:
        started = time.perf_counter()
        _seed_commercetools(client, catalogue, report, tick)
        report.seconds["commercetools"] = time.perf_counter() - started
    with httpx.Client(base_url=commercelayer.url, timeout=300) as client:
        started = time.perf_counter()
        _seed_commercelayer(client, commercelayer, catalogue, report, tick)
        report.seconds["commercelayer"] = time.perf_counter() - started
    return report


def _post(client: httpx.Client, path: str, body: Json | None = None) -> httpx.Response:
    response = client.post(path, json=body)
    if response.status_code >= 400:
        raise RuntimeError(
            f"{client.base_url}{path} answered {response.status_code}: {response.text[:500]}"
        )
    return response


# -- commercetools ---------------------------------------------------------------------------


def _ct_load(
    client: httpx.Client,
    report: SeedReport,
    tick: Progress,
    kind: str,
    drafts: Iterable[Json],
    size: int = CT_CHUNK,
) -> None:
    for chunk in _chunks(drafts, size):
        _post(client, "/_sandbox/load", {"type": kind, "drafts": chunk})
        report.add("commercetools", kind, len(chunk))
        tick(f"commercetools {kind}", len(chunk))


def _ref(type_id: str, key: str) -> Json:
    return {"typeId": type_id, "key": key}


def _seed_commercetools(
    client: httpx.Client, catalogue: Catalogue, report: SeedReport, tick: Progress
) -> None:
    _post(client, "/_sandbox/reset")

    def load(kind: str, drafts: Iterable[Json]) -> None:
        _ct_load(client, report, tick, kind, drafts)

    load("tax-category", [_ct_tax_category()])
    load("product-type", [_ct_product_type(key) for key in PRODUCT_TYPES])
    roots = [k for k, (_, parent) in CATEGORIES.items() if parent is None]
    children = [k for k, (_, parent) in CATEGORIES.items() if parent is not None]
    load("category", [_ct_category(key, i) for i, key in enumerate(roots)])
    load("category", [_ct_category(key, i) for i, key in enumerate(children)])
    load("channel", [_ct_channel(key) for key in CHANNELS])
    load("product", (_ct_product(p) for p in catalogue.products()))
    load("inventory-entry", (inv for p in catalogue.products() for inv in _ct_inventory(p)))
    load("customer", (_ct_customer(c) for c in catalogue.customers()))
    orders = (catalogue.order(n, "CT") for n in range(1, catalogue.order_count + 1))
    load("order", (_ct_order(o) for o in orders if o.lines))


def _ct_tax_category() -> Json:
    rates = [("DE", 0.19), ("US", 0.0), ("GB", 0.2)]
    return {
        "key": "standard",
        "name": "Standard",
        "rates": [
            {"name": f"{c} {int(r * 100)}%", "amount": r, "includedInPrice": True, "country": c}
            for c, r in rates
        ],
    }


def _ct_product_type(key: str) -> Json:
    label, _ = PRODUCT_TYPES[key]
    return {
        "key": key,
        "name": label,
        "description": f"{label} products",
        "attributes": [
            {
                "name": name,
                "label": {"en": name.title(), "de": german},
                "isRequired": False,
                "type": {"name": "text"},
                "attributeConstraint": "None",
                "isSearchable": True,
                "inputHint": "SingleLine",
            }
            for name, german in (("color", "Farbe"), ("size", "Größe"))
        ],
    }


def _ct_category(key: str, position: int) -> Json:
    name, parent = CATEGORIES[key]
    draft: Json = {
        "key": key,
        "name": {"en": name},
        "slug": {"en": key},
        "orderHint": f"0.{position + 1}",
    }
    if parent:
        draft["parent"] = _ref("category", parent)
    return draft


def _ct_channel(key: str) -> Json:
    name, country = CHANNELS[key]
    return {
        "key": key,
        "roles": ["InventorySupply"],
        "name": {"en": name},
        "address": {"country": country},
    }


def _ct_product(product: Product) -> Json:
    variants = [
        {
            "sku": v.sku,
            "key": v.sku.lower(),
            "attributes": [{"name": "color", "value": v.color}, {"name": "size", "value": v.size}],
            "prices": [
                {
                    "key": f"{v.sku.lower()}-{cur.lower()}",
                    "value": {"currencyCode": cur, "centAmount": cents},
                    "country": COUNTRIES[cur],
                }
                for cur, cents in v.prices.items()
            ],
            "images": [{"url": v.image_url, "dimensions": {"w": 800, "h": 800}}],
        }
        for v in product.variants
    ]
    return {
        "key": product.key,
        "productType": _ref("product-type", product.product_type),
        "name": {"en": product.name_en, "de": product.name_de},
        "description": {"en": product.description_en, "de": product.description_de},
        "slug": {"en": product.slug, "de": f"{product.slug}-de"},
        "categories": [_ref("category", c) for c in product.categories],
        "taxCategory": _ref("tax-category", "standard"),
        "masterVariant": variants[0],
        "variants": variants[1:],
        "publish": True,
    }


def _ct_inventory(product: Product) -> Iterator[Json]:
    for variant in product.variants:
        for channel, quantity in variant.stock.items():
            yield {
                "key": f"{variant.sku.lower()}-{channel}",
                "sku": variant.sku,
                "quantityOnStock": quantity,
                "supplyChannel": _ref("channel", channel),
            }


def _ct_address(address: Address, key: str) -> Json:
    return {
        "key": key,
        "firstName": address.first_name,
        "lastName": address.last_name,
        "streetName": address.street,
        "city": address.city,
        "postalCode": address.zip_code,
        "country": address.country,
        "phone": address.phone,
        "email": address.email,
    }


def _ct_customer(customer: Customer) -> Json:
    return {
        "key": f"customer-{customer.number:06d}",
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "password": f"sandbox-{customer.number}",
        "addresses": [_ct_address(customer.address, "home")],
        "defaultShippingAddress": 0,
        "defaultBillingAddress": 0,
    }


def _money(currency: str, cents: int) -> Json:
    return {
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cents,
        "fractionDigits": 2,
    }


def _ct_order(order: Order) -> Json:
    address = _ct_address(order.customer.address, "shipping")
    return {
        "orderNumber": order.number,
        "customerEmail": order.customer.email,
        "country": order.customer.address.country,
        "lineItems": [
            {
                "name": {"en": line.name},
                "variant": {"sku": line.sku},
                "price": {"value": _money(order.currency, line.unit_cents)},
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        "totalPrice": _money(order.currency, order.total_cents),
        "shippingAddress": address,
        "billingAddress": address,
        "orderState": "Open",
        "completedAt": order.placed_at.isoformat().replace("+00:00", "Z"),
    }


# -- Commerce Layer --------------------------------------------------------------------------


class _ClLoader:
    """Loads records with ids we choose, so later records can point at earlier ones."""

    def __init__(self, client: httpx.Client, report: SeedReport, tick: Progress, seed: int) -> None:
        self.client = client
        self.report = report
        self.tick = tick
        self.rng = random.Random(f"{seed}:commercelayer-ids")

    def new_id(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters, k=10))

    def load(self, kind: str, records: Iterable[Json]) -> None:
        for chunk in _chunks(records, CL_CHUNK):
            _post(self.client, "/_sandbox/load", {"type": kind, "records": chunk})
            self.report.add("commercelayer", kind, len(chunk))
            self.tick(f"commercelayer {kind}", len(chunk))


def _rel(kind: str, record_id: str) -> Json:
    return {"type": kind, "id": record_id}


def _cl_baseline_ids(sandbox: Sandbox) -> dict[str, str]:
    """Ids of the records every Commerce Layer sandbox starts with, found by their codes."""
    found = {}
    for kind, code in (
        ("merchants", None),
        ("inventory_models", "default"),
        ("shipping_categories", "merchandise"),
        ("price_lists", "eur"),
        ("markets", "europe"),
        ("stock_locations", "eu-warehouse"),
    ):
        params = {"filter[q][code_eq]": code} if code else {}
        with api_client(sandbox) as client:
            response = client.get(kind, params=params)
        response.raise_for_status()
        data = response.json()["data"]
        if not data:
            raise RuntimeError(f"the Commerce Layer sandbox has no baseline {kind} {code or ''}")
        found[kind] = data[0]["id"]
    return found


def _cl_address(address: Address) -> Json:
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "line_1": address.street,
        "city": address.city,
        "zip_code": address.zip_code,
        "country_code": address.country,
        "phone": address.phone,
        "email": address.email,
    }


def _seed_commercelayer(
    client: httpx.Client,
    sandbox: Sandbox,
    catalogue: Catalogue,
    report: SeedReport,
    tick: Progress,
) -> None:
    _post(client, "/_sandbox/reset")
    base = _cl_baseline_ids(sandbox)
    loader = _ClLoader(client, report, tick, catalogue.seed)

    price_lists = {"EUR": base["price_lists"]}
    new_lists = {cur: loader.new_id() for cur in ("USD", "GBP")}
    loader.load(
        "price_lists",
        [
            {
                "id": i,
                "attributes": {"name": f"{c} price list", "code": c.lower(), "currency_code": c},
            }
            for c, i in new_lists.items()
        ],
    )
    price_lists.update(new_lists)

    warehouse_address, warehouse = loader.new_id(), loader.new_id()
    loader.load(
        "addresses",
        [
            {
                "id": warehouse_address,
                "attributes": {
                    "business": True,
                    "company": "Cartwire US warehouse",
                    "line_1": "1 Dock Street",
                    "city": "Newark",
                    "zip_code": "07102",
                    "state_code": "NJ",
                    "country_code": "US",
                    "phone": "+1 973 555 0100",
                },
            }
        ],
    )
    loader.load(
        "stock_locations",
        [
            {
                "id": warehouse,
                "attributes": {"name": CHANNELS["us-warehouse"][0], "code": "us-warehouse"},
                "relationships": {"address": _rel("addresses", warehouse_address)},
            }
        ],
    )
    loader.load(
        "inventory_stock_locations",
        [
            {
                "attributes": {"priority": 2},
                "relationships": {
                    "stock_location": _rel("stock_locations", warehouse),
                    "inventory_model": _rel("inventory_models", base["inventory_models"]),
                },
            }
        ],
    )
    markets = {"EUR": base["markets"]}
    new_markets = {
        currency: (code, name, loader.new_id())
        for code, (name, currency) in MARKETS.items()
        if currency != "EUR"
    }
    loader.load(
        "markets",
        [
            {
                "id": market_id,
                "attributes": {"name": name, "code": code},
                "relationships": {
                    "merchant": _rel("merchants", base["merchants"]),
                    "price_list": _rel("price_lists", price_lists[currency]),
                    "inventory_model": _rel("inventory_models", base["inventory_models"]),
                },
            }
            for currency, (code, name, market_id) in new_markets.items()
        ],
    )
    markets.update({cur: market_id for cur, (_, _, market_id) in new_markets.items()})

    # Half of Commerce Layer's customers also exist in commercetools, half only here.
    some = max(1, catalogue.customer_count // 4)
    first = max(1, catalogue.customer_count - some // 2 + 1)
    customers = [catalogue.customer(n) for n in range(first, first + some)]
    loader.load("customers", ({"attributes": {"email": c.email}} for c in customers))

    orders = [catalogue.order(n, "CL") for n in range(1, max(1, catalogue.order_count // 2) + 1)]
    orders = [o for o in orders if o.lines]
    order_rows: list[Json] = []
    address_rows: list[Json] = []
    line_rows: list[Json] = []
    for order in orders:
        order_id, address_id = loader.new_id(), loader.new_id()
        address_rows.append({"id": address_id, "attributes": _cl_address(order.customer.address)})
        order_rows.append(
            {
                "id": order_id,
                "attributes": {
                    "number": order.number,
                    "status": "placed",
                    "payment_status": "authorized",
                    "customer_email": order.customer.email,
                    "language_code": "en",
                    "placed_at": order.placed_at.isoformat().replace("+00:00", "Z"),
                },
                "relationships": {
                    "market": _rel("markets", markets[order.currency]),
                    "shipping_address": _rel("addresses", address_id),
                    "billing_address": _rel("addresses", address_id),
                },
            }
        )
        line_rows.extend(
            {
                "attributes": {
                    "sku_code": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_amount_cents": line.unit_cents,
                    "item_type": "skus",
                },
                "relationships": {"order": _rel("orders", order_id)},
            }
            for line in order.lines
        )
    loader.load("addresses", address_rows)
    loader.load("orders", order_rows)
    loader.load("line_items", line_rows)
