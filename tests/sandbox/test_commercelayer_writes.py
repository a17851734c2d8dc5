"""Creating, updating and deleting: document errors, validation, uniqueness and behaviour."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()


def validation_error(
    name: str, title: str, relationship: bool, meta: dict[str, Any]
) -> dict[str, Any]:
    """A 422 error object as Commerce Layer words it: the title again in the detail, and a
    pointer to the attribute or relationship."""
    section = "relationships" if relationship else "attributes"
    return {
        "title": title,
        "detail": f"{name} - {title}",
        "code": "VALIDATION_ERROR",
        "source": {"pointer": f"/data/{section}/{name}"},
        "status": "422",
        "meta": meta,
    }


def blank(name: str, relationship: bool = False) -> dict[str, Any]:
    return validation_error(name, "can't be blank", relationship, {"error": "blank"})


def taken(name: str, value: Any, relationship: bool = False) -> dict[str, Any]:
    return validation_error(
        name, "has already been taken", relationship, {"error": "taken", "value": value}
    )


def bad_request(code: str, title: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"title": title, "detail": detail, "code": code, "status": "400"}]}


def test_create_update_delete(api: Api) -> None:
    category = api.first_id("shipping_categories")
    created = api.create(
        "skus",
        {"code": "CRUD-1", "name": "Crud", "metadata": {"a": 1}},
        {"shipping_category": ("shipping_categories", category)},
        query="?include=shipping_category",
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["attributes"]["code"] == "CRUD-1"
    assert created.json()["included"][0]["id"] == category
    assert data["attributes"]["created_at"] == data["attributes"]["updated_at"]

    # (no pause needed: the sandbox's clock gives every write its own, later millisecond)
    updated = api.update("skus", data["id"], {"name": "Crud 2", "reference": "r-1"})
    assert updated.status_code == 200
    attributes = updated.json()["data"]["attributes"]
    assert attributes["name"] == "Crud 2"
    assert attributes["reference"] == "r-1"
    assert attributes["created_at"] == data["attributes"]["created_at"]
    assert attributes["updated_at"] > data["attributes"]["updated_at"]

    unchanged = api.update("skus", data["id"], {"name": "Crud 2"})
    assert unchanged.json()["data"]["attributes"]["updated_at"] == attributes["updated_at"]

    put = api.raw(
        "PUT",
        f"/skus/{data['id']}",
        content=json.dumps(cl_fixtures.document("skus", {"name": "Put"}, id_=data["id"])),
    )
    assert put.status_code == 200
    assert put.json()["data"]["attributes"]["name"] == "Put"

    deleted = api.delete("skus", data["id"])
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/skus/{data['id']}").status_code == 404


def test_patch_key_and_type_checks(api: Api) -> None:
    sku = api.sku("KEY-1")
    body = cl_fixtures.document("skus", {"name": "x"}, id_="OTHERIDXYZ")
    mismatch = api.raw("PATCH", f"/skus/{sku['id']}", content=json.dumps(body))
    assert mismatch.status_code == 400
    assert mismatch.json() == bad_request(
        "KEY_NOT_INCLUDED_IN_URL",
        "Key is not included in URL",
        "The URL does not support the key OTHERIDXYZ",
    )
    no_id = api.raw(
        "PATCH",
        f"/skus/{sku['id']}",
        content=json.dumps(cl_fixtures.document("skus", {"name": "x"})),
    )
    assert no_id.json() == bad_request(
        "KEY_ORDER_MISMATCH", "A key is required", "The resource object does not contain a key."
    )
    wrong_type = api.raw(
        "PATCH",
        f"/skus/{sku['id']}",
        content=json.dumps(cl_fixtures.document("prices", {"name": "x"}, id_=sku["id"])),
    )
    assert wrong_type.json() == bad_request(
        "INVALID_RESOURCE", "Invalid resource", "prices is not a valid resource."
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"data": {"type": "skus", "attributes": {"code": "A", "colour": "red"}}},
            bad_request("PARAM_NOT_ALLOWED", "Param not allowed", "colour is not allowed."),
        ),
        (
            {"data": {"type": "skus", "id": "ABCDEFGHIJ", "attributes": {"code": "A"}}},
            bad_request("PARAM_NOT_ALLOWED", "Param not allowed", "id is not allowed."),
        ),
        (
            {"data": {"type": "skus", "attributes": {"inventory": {}}}},
            bad_request("PARAM_NOT_ALLOWED", "Param not allowed", "inventory is not allowed."),
        ),
        (
            {"data": {"type": "skus", "relationships": {"prices": {"data": []}}}},
            bad_request("PARAM_NOT_ALLOWED", "Param not allowed", "prices is not allowed."),
        ),
        (
            {"data": {"type": "skus", "meta": {}}},
            bad_request("PARAM_NOT_ALLOWED", "Param not allowed", "meta is not allowed."),
        ),
        (
            {
                "data": {
                    "type": "skus",
                    "relationships": {
                        "shipping_category": {"data": {"type": "skus", "id": "ABCDEFGHIJ"}}
                    },
                }
            },
            bad_request(
                "TYPE_MISMATCH", "Type Mismatch", "skus is not a valid type for this operation."
            ),
        ),
        (
            {"data": {"type": "skus", "relationships": {"shipping_category": "x"}}},
            bad_request(
                "INVALID_LINKS_OBJECT", "Invalid Links Object", "Data is not a valid Links Object."
            ),
        ),
        (
            {"data": {"attributes": {"code": "A"}}},
            bad_request(
                "PARAM_MISSING", "Missing Parameter", "The required parameter, type, is missing."
            ),
        ),
        (
            {"data": {"type": "prices", "attributes": {"code": "A"}}},
            bad_request("INVALID_RESOURCE", "Invalid resource", "prices is not a valid resource."),
        ),
        (
            {"type": "skus"},
            bad_request(
                "PARAM_MISSING", "Missing Parameter", "The required parameter, data, is missing."
            ),
        ),
        (
            {"data": []},
            bad_request("INVALID_DATA_FORMAT", "Invalid data format", "Data must be a hash."),
        ),
    ],
)
def test_document_errors_on_create(api: Api, body: dict[str, Any], expected: Any) -> None:
    response = api.raw("POST", "/skus", content=json.dumps(body))
    assert response.status_code == 400
    assert response.json() == expected


def test_invalid_json_is_a_bad_request(api: Api) -> None:
    response = api.raw("POST", "/skus", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "BAD_REQUEST"


def test_non_updatable_attributes_are_not_allowed_on_patch(api: Api) -> None:
    importer = api.made("imports", {"resource_type": "skus", "inputs": [{"code": "I"}]})
    response = api.update("imports", importer["id"], {"resource_type": "prices"})
    assert response.status_code == 400
    assert response.json() == bad_request(
        "PARAM_NOT_ALLOWED", "Param not allowed", "resource_type is not allowed."
    )
    sku = api.sku("RO-1")
    read_only = api.update("skus", sku["id"], {"created_at": "2020-01-01T00:00:00Z"})
    assert read_only.json() == bad_request(
        "PARAM_NOT_ALLOWED", "Param not allowed", "created_at is not allowed."
    )
    price = api.create(
        "prices",
        {"amount_cents": 1, "currency_code": "USD", "sku_code": "RO-1"},
        {"price_list": ("price_lists", api.first_id("price_lists"))},
    )
    assert price.json() == bad_request(
        "PARAM_NOT_ALLOWED", "Param not allowed", "currency_code is not allowed."
    )


def test_validation_errors_one_per_problem(api: Api) -> None:
    response = api.create("skus", {"description": "no code, no name"})
    assert response.status_code == 422
    assert response.json() == {
        "errors": [blank("code"), blank("name"), blank("shipping_category", relationship=True)]
    }
    market = api.create("markets", {"name": " "})
    assert market.json()["errors"] == [
        blank("name"),
        blank("merchant", True),
        blank("price_list", True),
        blank("inventory_model", True),
    ]


def test_value_validations(api: Api) -> None:
    category = ("shipping_categories", api.first_id("shipping_categories"))
    response = api.create(
        "skus",
        {"code": "V-1", "name": "V", "weight": "heavy", "unit_of_weight": "kg"},
        {"shipping_category": category},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["source"] == {"pointer": "/data/attributes/weight"}
    assert errors[0]["meta"] == {"error": "not_a_number", "value": "heavy"}
    assert errors[0]["detail"] == "weight - is not a number"
    assert errors[1]["source"] == {"pointer": "/data/attributes/unit_of_weight"}
    assert errors[1]["meta"] == {"error": "inclusion", "value": "kg"}
    numeric_string = api.create(
        "skus", {"code": "V-2", "name": "V", "weight": "12.5"}, {"shipping_category": category}
    )
    assert numeric_string.json()["data"]["attributes"]["weight"] == 12.5


def test_relationship_to_a_missing_record(api: Api) -> None:
    response = api.create(
        "skus",
        {"code": "GHOST", "name": "Ghost"},
        {"shipping_category": ("shipping_categories", "NOSUCHIDXX")},
    )
    assert response.status_code == 422
    assert response.json() == {"errors": [blank("shipping_category", relationship=True)]}
    order = api.create(
        "orders",
        {},
        {
            "market": ("markets", api.first_id("markets")),
            "customer": ("customers", "NOSUCHIDXX"),
        },
    )
    assert order.status_code == 422
    assert order.json()["errors"][0]["source"] == {"pointer": "/data/relationships/customer"}
    assert order.json()["errors"][0]["meta"] == {"error": "required"}


def test_uniqueness_rules(api: Api) -> None:
    api.sku("DUP-1")
    category = ("shipping_categories", api.first_id("shipping_categories"))
    again = api.create("skus", {"code": "DUP-1", "name": "x"}, {"shipping_category": category})
    assert again.status_code == 422
    assert again.json() == {"errors": [taken("code", "DUP-1")]}

    for type_, attributes in (
        ("shipping_categories", {"name": "Other", "code": "merchandise"}),
        ("price_lists", {"name": "Other", "code": "eur", "currency_code": "USD"}),
        ("inventory_models", {"name": "Other", "code": "default"}),
    ):
        response = api.create(type_, attributes)
        assert response.json() == {"errors": [taken("code", attributes["code"])]}, type_

    address = api.first_id("addresses")
    location = api.create(
        "stock_locations",
        {"name": "Other", "code": "eu-warehouse"},
        {"address": ("addresses", address)},
    )
    assert location.json() == {"errors": [taken("code", "eu-warehouse")]}
    market = api.create(
        "markets",
        {"name": "Other", "code": "EUROPE"},
        {
            "merchant": ("merchants", api.first_id("merchants")),
            "price_list": ("price_lists", api.first_id("price_lists")),
            "inventory_model": ("inventory_models", api.first_id("inventory_models")),
        },
    )
    assert market.json() == {"errors": [taken("code", "EUROPE")]}, "market codes ignore case"
    # Codes are optional: many records may have none.
    for _ in range(2):
        assert api.create("shipping_categories", {"name": "No code"}).status_code == 201

    api.made("customers", {"email": "ann@example.com"})
    customer = api.create("customers", {"email": "Ann@Example.com"})
    assert customer.json() == {"errors": [taken("email", "Ann@Example.com")]}

    sku = api.sku("DUP-2")
    price_list = api.first_id("price_lists")
    first = {"sku": ("skus", sku["id"]), "price_list": ("price_lists", price_list)}
    assert api.create("prices", {"amount_cents": 1}, first).status_code == 201
    second = api.create("prices", {"amount_cents": 2}, first)
    assert second.json() == {"errors": [taken("sku", sku["id"], relationship=True)]}

    location_id = api.first_id("stock_locations")
    stock = {"stock_location": ("stock_locations", location_id)}
    assert api.create("stock_items", {"quantity": 1, "sku_code": "DUP-2"}, stock).status_code == 201
    duplicate = api.create("stock_items", {"quantity": 2, "sku_code": "DUP-2"}, stock)
    assert duplicate.json() == {"errors": [taken("sku", sku["id"], relationship=True)]}

    other = api.sku("DUP-3")
    renamed = api.update("skus", other["id"], {"code": "DUP-2"})
    assert renamed.json() == {"errors": [taken("code", "DUP-2")]}


def test_prices_resolve_sku_code_and_inherit_currency(api: Api) -> None:
    sku = api.sku("PRICE-1")
    usd = api.made("price_lists", {"name": "USD", "currency_code": "USD"})
    price = api.made(
        "prices",
        {"amount_cents": 123456, "compare_at_amount_cents": 100, "sku_code": "PRICE-1"},
        price_list=("price_lists", usd["id"]),
    )
    attributes = price["attributes"]
    assert attributes["currency_code"] == "USD"
    assert attributes["sku_code"] == "PRICE-1"
    assert attributes["amount_float"] == 1234.56
    assert attributes["formatted_amount"] == "$1,234.56"
    assert attributes["compare_at_amount_cents"] == 123456
    linked = api.get(f"/prices/{price['id']}", include="sku").json()
    assert linked["data"]["relationships"]["sku"]["data"] == {"type": "skus", "id": sku["id"]}
    eur = api.made(
        "prices",
        {"amount_cents": 1999, "sku_code": "PRICE-1"},
        price_list=("price_lists", api.first_id("price_lists")),
    )
    assert eur["attributes"]["formatted_amount"] == "€19,99"
    api.update("skus", sku["id"], {"code": "PRICE-1B"})
    assert api.get(f"/prices/{eur['id']}").json()["data"]["attributes"]["sku_code"] == "PRICE-1B"

    unknown = api.create(
        "prices",
        {"amount_cents": 1, "sku_code": "NOPE"},
        {"price_list": ("price_lists", usd["id"])},
    )
    assert unknown.json() == {"errors": [blank("sku", relationship=True)]}
    missing = api.create("prices", {"amount_cents": 1}, {"price_list": ("price_lists", usd["id"])})
    assert missing.json() == {"errors": [blank("sku", relationship=True)]}


def test_deletes_cascade_or_are_refused(api: Api) -> None:
    sku = api.sku("DEL-1")
    price = api.made(
        "prices",
        {"amount_cents": 1},
        sku=("skus", sku["id"]),
        price_list=("price_lists", api.first_id("price_lists")),
    )
    assert api.delete("skus", sku["id"]).status_code == 204
    assert api.get(f"/prices/{price['id']}").status_code == 404
    api.sku("DEL-2")
    refused = api.delete("shipping_categories", api.first_id("shipping_categories"))
    assert refused.status_code == 423
    assert refused.json() == {
        "errors": [
            {
                "title": "Locked resource",
                "detail": "Cannot delete record because dependent skus exist",
                "code": "LOCKED",
                "status": "423",
            }
        ]
    }


def test_markets_disable_and_enable(api: Api) -> None:
    market = api.first_id("markets")
    disabled = api.update("markets", market, {"_disable": True}).json()["data"]["attributes"]
    assert re.match(r"\d{4}-\d{2}-\d{2}T", disabled["disabled_at"])
    assert "_disable" not in disabled
    enabled = api.update("markets", market, {"_enable": True}).json()["data"]["attributes"]
    assert enabled["disabled_at"] is None


def test_customers_and_addresses(api: Api) -> None:
    customer = api.made("customers", {"email": "bob@example.com", "password": "secret"})
    attributes = customer["attributes"]
    assert "password" not in attributes
    assert attributes["has_password"] is True
    assert attributes["status"] == "prospect"
    assert attributes["total_orders_count"] == 0
    invalid = api.create("customers", {"email": "not-an-email"})
    assert invalid.json()["errors"][0]["meta"] == {"error": "invalid", "value": "not-an-email"}

    personal = api.create("addresses", {"line_1": "Main St 1", "city": "Rome"})
    names = [e["source"]["pointer"].rsplit("/", 1)[1] for e in personal.json()["errors"]]
    assert sorted(names) == ["country_code", "first_name", "last_name", "phone", "zip_code"]
    address = api.made(
        "addresses",
        {
            "first_name": "Bob",
            "last_name": "Smith",
            "line_1": "Main St 1",
            "city": "Rome",
            "zip_code": "00100",
            "country_code": "IT",
            "phone": "123",
        },
    )
    assert address["attributes"]["full_name"] == "Bob Smith"
    assert address["attributes"]["name"].startswith("Bob Smith, Main St 1, 00100 Rome")
    link = api.made(
        "customer_addresses",
        {"customer_email": "bob@example.com"},
        address=("addresses", address["id"]),
    )
    assert link["attributes"]["customer_email"] == "bob@example.com"
    assert link["attributes"]["name"] == address["attributes"]["name"]
    addresses = api.get(f"/customers/{customer['id']}/customer_addresses").json()
    assert [a["id"] for a in addresses["data"]] == [link["id"]]


def test_order_lifecycle(api: Api, server: ClServer) -> None:
    api.sku("ORDER-1", image_url="https://img.example/1.png")
    api.made(
        "prices",
        {"amount_cents": 1500, "sku_code": "ORDER-1"},
        price_list=("price_lists", api.first_id("price_lists")),
    )
    unscoped = api.create("orders", {})
    assert unscoped.json() == {"errors": [blank("market", relationship=True)]}

    scoped = server.api("market:code:europe")
    order = scoped.made("orders", {})
    attributes = order["attributes"]
    assert attributes["status"] == "draft"
    assert re.fullmatch(r"\d+", attributes["number"])
    assert attributes["currency_code"] == "EUR"
    assert attributes["payment_status"] == "unpaid"

    empty = api.update("orders", order["id"], {"_place": True})
    assert empty.status_code == 422
    assert empty.json()["errors"] == [
        blank("line_items", relationship=True),
        blank("customer_email"),
    ]
    line_item = api.made(
        "line_items", {"sku_code": "ORDER-1", "quantity": 3}, order=("orders", order["id"])
    )
    item = line_item["attributes"]
    assert item["unit_amount_cents"] == 1500
    assert item["total_amount_cents"] == 4500
    assert item["name"] == "SKU ORDER-1"
    assert item["image_url"] == "https://img.example/1.png"
    assert item["item_type"] == "skus"
    assert item["formatted_total_amount"] == "€45,00"
    refreshed = api.get(f"/orders/{order['id']}").json()["data"]["attributes"]
    assert refreshed["subtotal_amount_cents"] == 4500
    assert refreshed["total_amount_cents"] == 4500
    assert refreshed["skus_count"] == 3
    assert refreshed["updated_at"] > attributes["updated_at"]
    bad_quantity = api.update("line_items", line_item["id"], {"quantity": 0})
    assert bad_quantity.json()["errors"][0]["meta"] == {
        "error": "greater_than",
        "value": 0,
        "count": 0,
    }

    api.update("orders", order["id"], {"customer_email": "carol@example.com"}).raise_for_status()
    placed = api.update("orders", order["id"], {"_place": True})
    assert placed.status_code == 200, placed.text
    placed_attributes = placed.json()["data"]["attributes"]
    assert placed_attributes["status"] == "placed"
    assert placed_attributes["placed_at"] is not None
    assert placed_attributes["editable"] is False
    customer = api.get(f"/orders/{order['id']}/customer").json()["data"]["attributes"]
    assert customer["email"] == "carol@example.com"
    assert customer["status"] == "acquired"
    assert customer["total_orders_count"] == 1
    shipments = api.get(f"/orders/{order['id']}/shipments", include="stock_location").json()
    assert shipments["meta"]["record_count"] == 1
    shipment = shipments["data"][0]["attributes"]
    assert shipment["status"] == "upcoming"
    assert shipment["number"] == f"{placed_attributes['number']}/S/001"
    assert shipments["included"][0]["attributes"]["code"] == "eu-warehouse"

    again = api.update("orders", order["id"], {"_place": True})
    assert again.json()["errors"] == [
        {
            "title": 'cannot transition via "place"',
            "detail": 'status - cannot transition via "place"',
            "code": "VALIDATION_ERROR",
            "source": {"pointer": "/data/attributes/status"},
            "status": "422",
            "meta": {"error": "invalid_transition"},
        }
    ]
    approved = api.update("orders", order["id"], {"_approve": True}).json()["data"]
    assert approved["attributes"]["status"] == "approved"
    assert approved["attributes"]["approved_at"] is not None
    archived = api.update("orders", order["id"], {"_archive": True}).json()["data"]
    assert archived["attributes"]["archived_at"] is not None
    cancelled = api.update("orders", order["id"], {"_cancel": True}).json()["data"]
    assert cancelled["attributes"]["status"] == "cancelled"
    assert cancelled["attributes"]["cancelled_at"] is not None
    shipment_after = api.get(f"/orders/{order['id']}/shipments").json()["data"][0]
    assert shipment_after["attributes"]["status"] == "cancelled"
    assert (
        api.get("/orders", **{"filter[q][status_eq]": "cancelled"}).json()["meta"]["record_count"]
        == 1
    )


def test_order_numbers_and_line_item_rules(api: Api) -> None:
    market = ("markets", api.first_id("markets"))
    first = api.made("orders", {}, market=market)
    second = api.made("orders", {}, market=market)
    assert int(second["attributes"]["number"]) > int(first["attributes"]["number"])
    custom = api.made("orders", {"number": "WEB-1"}, market=market)
    assert custom["attributes"]["number"] == "WEB-1"
    duplicate = api.create("orders", {"number": "WEB-1"}, {"market": market})
    assert duplicate.json() == {"errors": [taken("number", "WEB-1")]}
    no_price = api.sku("NO-PRICE")
    line = api.create(
        "line_items",
        {"sku_code": no_price["attributes"]["code"], "quantity": 1},
        {"order": ("orders", first["id"])},
    )
    assert line.json() == {"errors": [blank("unit_amount_cents")]}
    explicit = api.made(
        "line_items",
        {"sku_code": "NO-PRICE", "quantity": 2, "unit_amount_cents": 250},
        order=("orders", first["id"]),
    )
    assert explicit["attributes"]["total_amount_cents"] == 500
    moved = api.update(
        "line_items", explicit["id"], relationships={"order": ("orders", second["id"])}
    )
    assert moved.json() == bad_request(
        "PARAM_NOT_ALLOWED", "Param not allowed", "order is not allowed."
    )
    assert api.delete("line_items", explicit["id"]).status_code == 204
    assert api.get(f"/orders/{first['id']}").json()["data"]["attributes"]["total_amount_cents"] == 0


def test_shipment_transitions(api: Api) -> None:
    order = api.made("orders", {}, market=("markets", api.first_id("markets")))
    location = api.first_id("inventory_stock_locations")
    shipment = api.made(
        "shipments",
        {},
        order=("orders", order["id"]),
        inventory_stock_location=("inventory_stock_locations", location),
    )
    assert shipment["attributes"]["status"] == "draft"
    for trigger, status in (
        ("_upcoming", "upcoming"),
        ("_picking", "picking"),
        ("_packing", "packing"),
        ("_ready_to_ship", "ready_to_ship"),
        ("_ship", "shipped"),
        ("_deliver", "delivered"),
    ):
        response = api.update("shipments", shipment["id"], {trigger: True})
        assert response.json()["data"]["attributes"]["status"] == status
    cancel = api.update("shipments", shipment["id"], {"_cancel": True})
    assert cancel.status_code == 422


def test_webhooks(api: Api) -> None:
    webhook = api.made(
        "webhooks", {"topic": "orders.place", "callback_url": "https://example.com/hook"}
    )
    attributes = webhook["attributes"]
    assert re.fullmatch(r"[0-9a-f]{32}", attributes["shared_secret"])
    assert attributes["circuit_state"] == "closed"
    regenerated = api.update("webhooks", webhook["id"], {"_regenerate_shared_secret": True})
    assert regenerated.json()["data"]["attributes"]["shared_secret"] != attributes["shared_secret"]
    missing = api.create("webhooks", {"topic": "orders.place"})
    assert missing.json() == {"errors": [blank("callback_url")]}
