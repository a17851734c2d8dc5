"""`cartwire sandbox seed`: a realistic, deterministic business in both sandboxes."""

import json
import os
from pathlib import Path
from typing import Any

import httpx

from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.clients import api_client
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from tests.support import run_cli


def ct_total(client: httpx.Client, resource: str) -> int:
    response = client.get(resource, params={"limit": 0})
    response.raise_for_status()
    total: int = response.json()["total"]
    return total


def cl_total(client: httpx.Client, resource: str, **filters: str) -> int:
    params = {"page[size]": "1", **{f"filter[q][{k}]": v for k, v in filters.items()}}
    response = client.get(resource, params=params)
    response.raise_for_status()
    total: int = response.json()["meta"]["record_count"]
    return total


def ct_products(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("products", params={"limit": 500, "sort": "key asc"})
    response.raise_for_status()
    return [
        {
            "key": p["key"],
            "name": p["masterData"]["current"]["name"],
            "skus": [p["masterData"]["current"]["masterVariant"]["sku"]]
            + [v["sku"] for v in p["masterData"]["current"]["variants"]],
            "prices": [
                (price["value"]["currencyCode"], price["value"]["centAmount"])
                for price in p["masterData"]["current"]["masterVariant"]["prices"]
            ],
        }
        for p in response.json()["results"]
    ]


def test_seed_loads_a_matching_business(ct: Sandbox, cl: Sandbox) -> None:
    catalogue = Catalogue(seed=3, products=40, customers=20, orders=10)
    report = seed(catalogue, ct, cl)
    variants = sum(len(p.variants) for p in catalogue.products())
    with api_client(ct) as client:
        assert ct_total(client, "products") == 40
        assert ct_total(client, "product-types") == 3
        assert ct_total(client, "categories") == 10
        assert ct_total(client, "channels") == 2
        assert ct_total(client, "inventory") == variants * 2
        assert ct_total(client, "customers") == 20
        assert ct_total(client, "orders") == report.counts["commercetools"]["order"]
        products = ct_products(client)
    assert {len(p["prices"]) for p in products} == {3}
    assert all(1 <= len(p["skus"]) <= 5 for p in products)
    with api_client(cl) as client:
        assert cl_total(client, "markets") == 3
        assert cl_total(client, "price_lists") == 3
        assert cl_total(client, "stock_locations") == 2
        assert cl_total(client, "shipping_categories") == 1
        assert cl_total(client, "customers") == 5
        placed = cl_total(client, "orders", status_eq="placed")
        assert placed == report.counts["commercelayer"]["orders"] > 0
        order = client.get("orders", params={"include": "line_items,market"}).json()
        line_skus = {
            i["attributes"]["sku_code"] for i in order["included"] if i["type"] == "line_items"
        }
    catalogue_skus = {v.sku for p in catalogue.products() for v in p.variants}
    assert line_skus <= catalogue_skus


def test_seed_is_deterministic(ct: Sandbox, cl: Sandbox) -> None:
    catalogue = Catalogue(seed=11, products=25, customers=8, orders=4)
    seed(catalogue, ct, cl)
    with api_client(ct) as client:
        first = ct_products(client)
    with api_client(cl) as client:
        first_orders = client.get("orders", params={"sort": "number"}).json()["data"]
    seed(catalogue, ct, cl)
    with api_client(ct) as client:
        assert ct_products(client) == first
    with api_client(cl) as client:
        again = client.get("orders", params={"sort": "number"}).json()["data"]
    assert [(o["id"], o["attributes"]["number"]) for o in again] == [
        (o["id"], o["attributes"]["number"]) for o in first_orders
    ]
    other = Catalogue(seed=12, products=25, customers=8, orders=4)
    assert other.product(1) != catalogue.product(1)


def test_seed_command(sandboxes: dict[str, Sandbox], ct: Sandbox, cl: Sandbox) -> None:
    home = Path(os.environ["CARTWIRE_HOME"])
    args = ["--products", "30", "--customers", "5", "--orders", "3", "--seed", "5", "--json"]
    done = run_cli(home, "sandbox", "seed", *args)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["counts"]["commercetools"]["product"] == 30
    assert set(result["seconds"]) == {"commercetools", "commercelayer"}


def test_seed_asks_before_it_replaces_data(
    sandboxes: dict[str, Sandbox], ct: Sandbox, cl: Sandbox
) -> None:
    """Seeding replaces, never adds; with data there and no terminal to ask at, it refuses and
    says how to go on, leaving the data as it was."""
    home = Path(os.environ["CARTWIRE_HOME"])
    args = ["--products", "4", "--customers", "2", "--orders", "1", "--json"]
    assert run_cli(home, "sandbox", "seed", *args).returncode == 0
    with api_client(ct) as client:
        before = ct_products(client)
    refused = run_cli(home, "sandbox", "seed", *args, "--seed", "9", stdin="")
    assert refused.returncode == 2
    assert "4 commercetools products" in refused.stderr
    assert "--yes" in refused.stderr
    with api_client(ct) as client:
        assert ct_products(client) == before
    replaced = run_cli(home, "sandbox", "seed", *args, "--seed", "9", "--yes")
    assert replaced.returncode == 0, replaced.stderr
    with api_client(ct) as client:
        assert ct_products(client) != before
    assert "REPLACE" in run_cli(home, "sandbox", "seed", "--help").stdout
