"""Asynchronous imports: lifecycle, upserts by natural key, errors_log, limits, cleanup."""

from __future__ import annotations

from typing import Any

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()


def start(api: Api, resource_type: str, inputs: Any, **attributes: Any) -> dict[str, Any]:
    return api.made("imports", {"resource_type": resource_type, "inputs": inputs, **attributes})


def finish(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def done() -> bool:
        result.update(api.get(f"/imports/{job['id']}").json()["data"]["attributes"])
        return result["status"] in ("completed", "interrupted")

    cl_fixtures.wait_until(done)
    return result


def codes(api: Api, **params: str) -> dict[str, str]:
    found: dict[str, str] = {}
    document = api.get("/skus", **{"page[size]": "25", **params}).json()
    for sku in document["data"]:
        found[sku["attributes"]["code"]] = sku["attributes"]["name"]
    return found


def test_lifecycle_and_upsert(api: Api) -> None:
    category = api.first_id("shipping_categories")
    inputs = [
        {"code": f"IMP-{n}", "name": f"Imported {n}", "shipping_category_id": category}
        for n in range(3)
    ]
    job = start(api, "skus", inputs)
    attributes = job["attributes"]
    assert attributes["status"] == "pending"
    assert attributes["inputs_size"] == 3
    assert attributes["format"] == "json"
    assert "inputs" not in attributes
    result = finish(api, job)
    assert result["status"] == "completed"
    assert result["processed_count"] == 3
    assert result["errors_count"] == 0
    assert result["warnings_count"] == 0
    assert result["destroyed_count"] == 0
    assert result["errors_log"] == {}
    assert result["started_at"] <= result["completed_at"]
    assert "inputs" not in result
    assert codes(api, **{"filter[q][code_start]": "IMP-"}) == {
        f"IMP-{n}": f"Imported {n}" for n in range(3)
    }

    again = start(api, "skus", [{"code": "IMP-1", "name": "Renamed"}, inputs[2]])
    assert finish(api, again)["processed_count"] == 2
    after = codes(api, **{"filter[q][code_start]": "IMP-"})
    assert after == {"IMP-0": "Imported 0", "IMP-1": "Renamed", "IMP-2": "Imported 2"}
    listed = api.get("/imports", **{"filter[q][status_eq]": "completed", "sort": "-created_at"})
    assert [i["id"] for i in listed.json()["data"]] == [again["id"], job["id"]]


def test_errors_log_and_interruption(api: Api) -> None:
    category = api.first_id("shipping_categories")
    good = [{"code": f"OK-{n}", "name": "ok", "shipping_category_id": category} for n in range(9)]
    bad = [
        {"code": "NO-NAME", "shipping_category_id": category},
        {"code": "GHOST-CAT", "name": "x", "shipping_category_id": "NOSUCHIDXX"},
        {"name": "no code", "shipping_category_id": category},
        {"code": "OK-0", "name": "dup", "colour": "red"},
    ]
    job = start(api, "skus", good + bad, skip_errors=True)
    result = finish(api, job)
    assert result["status"] == "completed"
    assert result["processed_count"] == 9
    assert result["errors_count"] == 4
    assert result["errors_log"] == {
        "NO-NAME": {"name": ["can't be blank"]},
        "GHOST-CAT": {"shipping_category": ["can't be blank"]},
        "11": {"code": ["can't be blank"]},
        "OK-0": {"colour": ["is not a valid attribute"]},
    }

    strict = start(api, "skus", good + bad)
    interrupted = finish(api, strict)
    assert interrupted["status"] == "interrupted"
    assert interrupted["interrupted_at"] is not None
    assert interrupted["completed_at"] is None

    tolerable = start(api, "skus", [*good, good[0], bad[0]])
    assert finish(api, tolerable)["status"] == "completed", "1 error in 11 is under 10 %?"


def test_interrupt_trigger(api: Api, server: ClServer) -> None:
    pending = server.admin(
        "POST",
        "load",
        json={"type": "imports", "records": [{"attributes": {"resource_type": "skus"}}]},
    ).json()["ids"][0]
    response = api.update("imports", pending, {"_interrupt": True})
    assert response.json()["data"]["attributes"]["status"] == "interrupted"
    again = api.update("imports", pending, {"_interrupt": True})
    assert again.status_code == 422


def test_limits(api: Api, server: ClServer) -> None:
    too_many_inputs = api.create(
        "imports", {"resource_type": "skus", "inputs": [{"code": "x"}] * 10_001}
    )
    assert too_many_inputs.status_code == 422
    error = too_many_inputs.json()["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/inputs"}
    assert error["meta"] == {"error": "too_long", "count": 10_000}

    unknown_type = api.create("imports", {"resource_type": "unicorns", "inputs": [{}]})
    assert unknown_type.json()["errors"][0]["meta"] == {"error": "inclusion", "value": "unicorns"}
    no_inputs = api.create("imports", {"resource_type": "skus", "inputs": []})
    assert no_inputs.json()["errors"][0]["meta"] == {"error": "blank"}

    queued = [{"attributes": {"resource_type": "skus", "status": "pending"}}] * 10
    server.admin("POST", "load", json={"type": "imports", "records": queued}).raise_for_status()
    eleventh = api.create("imports", {"resource_type": "skus", "inputs": [{"code": "x"}]})
    assert eleventh.status_code == 422
    assert eleventh.json()["errors"][0]["source"] == {"pointer": "/data"}


def test_prices_stock_items_customers_orders(api: Api) -> None:
    for n in range(3):
        api.sku(f"P-{n}")
    price_list = api.first_id("price_lists")
    location = api.first_id("stock_locations")
    prices = start(
        api,
        "prices",
        [{"sku_code": f"P-{n}", "amount_cents": 100 * (n + 1)} for n in range(3)],
        parent_resource_id=price_list,
    )
    assert finish(api, prices)["processed_count"] == 3
    update = start(
        api,
        "prices",
        [{"sku_code": "P-0", "amount_cents": 999, "price_list_id": price_list}],
    )
    assert finish(api, update)["processed_count"] == 1
    amounts = {
        p["attributes"]["sku_code"]: p["attributes"]["amount_cents"]
        for p in api.get("/prices").json()["data"]
    }
    assert amounts == {"P-0": 999, "P-1": 200, "P-2": 300}

    stock = start(
        api,
        "stock_items",
        [{"sku_code": "P-1", "quantity": 4, "stock_location_id": location}] * 2,
    )
    assert finish(api, stock)["processed_count"] == 2
    assert api.get("/stock_items").json()["meta"]["record_count"] == 1

    customers = start(
        api, "customers", [{"email": "dan@example.com"}, {"email": "DAN@example.com"}]
    )
    assert finish(api, customers)["processed_count"] == 2
    assert api.get("/customers").json()["meta"]["record_count"] == 1

    market = api.first_id("markets")
    orders = start(
        api,
        "orders",
        [
            {
                "number": "IMP-ORDER-1",
                "market_id": market,
                "customer_email": "dan@example.com",
                "line_items": [
                    {"sku_code": "P-1", "quantity": 2},
                    {"sku_code": "P-2", "quantity": 1},
                ],
            }
        ],
    )
    assert finish(api, orders)["errors_log"] == {}
    order = api.get("/orders", include="line_items").json()
    assert order["data"][0]["attributes"]["number"] == "IMP-ORDER-1"
    assert order["data"][0]["attributes"]["total_amount_cents"] == 2 * 200 + 300
    assert len(order["included"]) == 2


def test_cleanup_records(api: Api) -> None:
    for n in range(4):
        api.sku(f"C-{n}")
    price_list = api.first_id("price_lists")
    first = start(
        api,
        "prices",
        [{"sku_code": f"C-{n}", "amount_cents": 100} for n in range(4)],
        parent_resource_id=price_list,
    )
    finish(api, first)
    keep = start(
        api,
        "prices",
        [{"sku_code": "C-0", "amount_cents": 150}],
        parent_resource_id=price_list,
        cleanup_records=True,
    )
    result = finish(api, keep)
    assert result["destroyed_count"] == 3
    remaining = api.get("/prices").json()["data"]
    assert [p["attributes"]["sku_code"] for p in remaining] == ["C-0"]


def test_csv_format(api: Api) -> None:
    category = api.first_id("shipping_categories")
    csv_text = f"code,name,shipping_category_id\nCSV-1,From CSV,{category}\n"
    job = start(api, "skus", csv_text, format="csv")
    assert finish(api, job)["processed_count"] == 1
    assert codes(api) == {"CSV-1": "From CSV"}


def test_ten_thousand_inputs_in_one_import(api: Api) -> None:
    category = api.first_id("shipping_categories")
    inputs = [
        {"code": f"BULK-{n:05d}", "name": f"Bulk {n}", "shipping_category_id": category}
        for n in range(10_000)
    ]
    job = start(api, "skus", inputs)
    result = finish(api, job)
    assert result["status"] == "completed"
    assert result["processed_count"] == 10_000
    assert api.get("/skus", **{"page[size]": "1"}).json()["meta"]["record_count"] == 10_000
