"""The worked example's JSON:API connector file alone (docs/examples/stockroom-jsonapi/, no
Python) against two real Stockroom servers' JSON:API flavour: flattened reads with `cartwire
get`, a flow that creates every product linked to its category, a re-run that writes nothing
(counted at the server), and a dry run and a run that change one relationship and one
attribute with one PATCH of just those."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cartwire.services.python_api import open_instance
from tests.resources.example_api import CATEGORIES, Stockroom, catalogue, serve_stockroom
from tests.resources.stockroom_home import add_instance, cli, run_flow, stockroom_home

PRODUCTS = 60  # three source pages of 25, and a lookup of up to 25 SKUs each
CONNECTOR = "stockroom-jsonapi"


@pytest.fixture
def rooms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str, Stockroom, Stockroom]]:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    flow = stockroom_home(tmp_path, CONNECTOR)
    with serve_stockroom() as (supplier_url, supplier), serve_stockroom() as (shop_url, shop):
        categories = sorted(CATEGORIES)
        for n, product in enumerate(catalogue(PRODUCTS)):
            product.pop("attributes")
            supplier.add_resource(categories[n % 2] if n % 5 else None, **product)
        add_instance(tmp_path, CONNECTOR, "supplier", supplier_url)
        add_instance(tmp_path, CONNECTOR, "shop", shop_url)
        yield tmp_path, flow, supplier, shop


def by_sku(room: Stockroom) -> dict[str, dict[str, Any]]:
    return {r["attributes"]["sku"]: r for r in room.resources.values()}


def test_the_connector_file_alone_reads_upserts_and_reruns_with_no_writes(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, flow, supplier, shop = rooms
    lines = cli(home, "get", "supplier", "products", "--filter", "include=category")
    read = [json.loads(line) for line in lines.splitlines()]
    assert len(read) == PRODUCTS
    assert read[1] == {
        "id": "r2",
        "type": "products",
        "sku": "SKU-002",
        "name": "Product 2",
        "price": "6.00",
        "stock": 6,
        "category": {"id": "cat-tools", "type": "categories", "name": "Tools"},
    }
    assert read[0]["category"] is None

    first = run_flow(home, flow)
    assert (first["read"], first["created"], first["failed"]) == (PRODUCTS, PRODUCTS, 0)
    assert shop.count("POST", "/jsonapi/products") == PRODUCTS
    assert shop.count("GET", "/jsonapi/products") == 3
    assert {sku: (r["attributes"], r["category"]) for sku, r in by_sku(shop).items()} == {
        sku: (r["attributes"], r["category"]) for sku, r in by_sku(supplier).items()
    }
    [(_, _, created), *_] = shop.bodies
    assert created == {
        "data": {
            "type": "products",
            "attributes": {"sku": "SKU-001", "name": "Product 1", "price": "5.50", "stock": 3},
            "relationships": {"category": {"data": None}},
        }
    }
    lookups = [q for m, p, q in shop.queries if (m, p) == ("GET", "/jsonapi/products")]
    assert lookups[0]["include"] == ["category"]
    assert len(lookups[0]["filter[sku]"][0].split(",")) == 25

    shop.requests.clear()
    again = run_flow(home, flow)
    assert (again["unchanged"], again["created"], again["updated"]) == (PRODUCTS, 0, 0)
    assert shop.writes() == 0
    assert shop.count("GET", "/jsonapi/products") == 3


def test_a_changed_relationship_and_attribute_are_one_patch_of_just_those(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, flow, supplier, shop = rooms
    run_flow(home, flow)
    source = by_sku(supplier)["SKU-002"]
    source["category"] = "cat-garden"
    source["attributes"]["stock"] = 99
    shop.bodies.clear()

    dry = run_flow(home, flow, "--dry-run")
    assert (dry["updated"], dry["unchanged"]) == (1, PRODUCTS - 1)
    assert shop.bodies == []
    fields = {c["field"]: (c["old"], c["new"]) for c in dry["changes"]}
    assert fields == {"stock": (6, 99), "category": ("cat-tools", "cat-garden")}

    done = run_flow(home, flow)
    assert (done["updated"], done["unchanged"]) == (1, PRODUCTS - 1)
    target = by_sku(shop)["SKU-002"]
    assert shop.bodies == [
        (
            "PATCH",
            f"/jsonapi/products/{target['id']}",
            {
                "data": {
                    "type": "products",
                    "id": target["id"],
                    "attributes": {"stock": 99},
                    "relationships": {
                        "category": {"data": {"type": "categories", "id": "cat-garden"}}
                    },
                }
            },
        )
    ]
    assert (target["category"], target["attributes"]["stock"]) == ("cat-garden", 99)


def test_a_relationship_given_without_an_id_fails_that_record_alone(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    _, _, _, shop = rooms
    records: list[dict[str, Any]] = [
        {"sku": "A", "name": "A", "category": {"code": "tools"}},
        {"sku": "B", "name": "B", "category": "cat-tools"},
        {"sku": "C", "name": "C", "type": "categories"},
    ]
    with open_instance("shop") as platform:
        results = list(platform.upsert("products", records))
    assert [(r.outcome, r.code) for r in results] == [
        ("failed", "INVALID_RECORD"),
        ("created", None),
        ("failed", "INVALID_RECORD"),
    ]
    assert results[0].message == "relationship 'category' needs an id, got {'code': 'tools'}"
    assert results[2].message == "a categories record cannot be written as products"
    assert [r["category"] for r in shop.resources.values()] == ["cat-tools"]


def test_the_writer_needs_the_endpoint_read_as_jsonapi(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, _, _, _ = rooms
    path = home / "connectors" / f"{CONNECTOR}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    format: jsonapi ", "    data_path: data #", 1), "utf-8")
    with open_instance("shop") as platform, pytest.raises(ValueError, match="format: jsonapi"):
        platform.writer("products")
