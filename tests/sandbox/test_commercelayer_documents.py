"""JSON:API documents, media types, paging, sorting, sparse fieldsets and includes."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def price(api: Api, sku_id: str, cents: int, price_list: str | None = None) -> dict[str, Any]:
    return api.made(
        "prices",
        {"amount_cents": cents},
        sku=("skus", sku_id),
        price_list=("price_lists", price_list or api.first_id("price_lists")),
    )


def test_single_resource_shape(api: Api, server: ClServer) -> None:
    sku = api.sku("SHAPE-1", description="A shirt", metadata={"color": "red"})
    response = api.get(f"/skus/{sku['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.api+json"
    document = response.json()
    assert list(document) == ["data"]
    data = document["data"]
    assert list(data) == ["id", "type", "links", "attributes", "relationships", "meta"]
    assert re.fullmatch(r"[A-Za-z]{10}", data["id"])
    assert data["type"] == "skus"
    assert data["links"] == {"self": f"{server.url}/api/skus/{sku['id']}"}
    attributes = data["attributes"]
    assert attributes["code"] == "SHAPE-1"
    assert attributes["description"] == "A shirt"
    assert attributes["metadata"] == {"color": "red"}
    assert attributes["do_not_ship"] is False
    assert attributes["inventory"] == {"available": False, "quantity": 0, "levels": []}
    assert TIMESTAMP.match(attributes["created_at"])
    assert TIMESTAMP.match(attributes["updated_at"])
    assert attributes["reference"] is None
    for name, relationship in data["relationships"].items():
        base = f"{server.url}/api/skus/{sku['id']}"
        assert relationship == {
            "links": {"self": f"{base}/relationships/{name}", "related": f"{base}/{name}"}
        }
    assert set(data["relationships"]) >= {"shipping_category", "prices", "stock_items"}
    meta = data["meta"]
    assert meta["mode"] == "test"
    assert meta["organization_id"] == api.get("/organization").json()["data"]["id"]
    assert re.fullmatch(r"[0-9a-f]{16,}", meta["trace_id"])


def test_inventory_only_on_single_reads(api: Api) -> None:
    sku = api.sku("INV-1")
    location = api.first_id("stock_locations")
    api.made(
        "stock_items",
        {"quantity": 7},
        sku=("skus", sku["id"]),
        stock_location=("stock_locations", location),
    )
    single = api.get(f"/skus/{sku['id']}").json()["data"]["attributes"]
    assert single["inventory"] == {
        "available": True,
        "quantity": 7,
        "levels": [{"quantity": 7, "delivery_lead_times": []}],
    }
    listed = api.get("/skus").json()["data"][0]["attributes"]
    assert "inventory" not in listed


def test_unsupported_media_type_on_writes(api: Api) -> None:
    body = json.dumps(cl_fixtures.document("skus", {"code": "X", "name": "X"}))
    for method, path in (("POST", "/skus"), ("PATCH", f"/skus/{api.sku('MT-1')['id']}")):
        response = api.raw(method, path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 415
        assert response.json() == {
            "errors": [
                {
                    "title": "Unsupported media type",
                    "detail": "All requests that create or update must use the "
                    "'application/vnd.api+json' Content-Type. This request specified "
                    "'application/json'.",
                    "code": "UNSUPPORTED_MEDIA_TYPE",
                    "status": "415",
                }
            ]
        }
    with_params = api.raw(
        "POST",
        "/skus",
        content=body,
        headers={"Content-Type": "application/vnd.api+json; charset=utf-8"},
    )
    assert with_params.status_code == 415


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (None, 200),
        ("*/*", 200),
        ("application/vnd.api+json", 200),
        ("application/json, */*", 200),
        ("application/json", 406),
        ("text/html", 406),
    ],
)
def test_accept_header(api: Api, accept: str | None, status: int) -> None:
    headers = dict(api.client.headers)
    headers.pop("accept")
    if accept is not None:
        headers["Accept"] = accept
    response = httpx.get(f"{api.server.url}/api/skus", headers=headers)
    assert response.status_code == status
    if status == 406:
        assert response.json() == {
            "errors": [
                {
                    "title": "Not acceptable",
                    "detail": "All requests must use the 'application/vnd.api+json' Accept "
                    f"without media type parameters. This request specified '{accept}'.",
                    "code": "NOT_ACCEPTABLE",
                    "status": "406",
                }
            ]
        }


def test_relationships_carry_data_only_when_included(api: Api) -> None:
    sku = api.sku("INC-1")
    other = api.sku("INC-2")
    first = price(api, sku["id"], 1000)
    price(api, other["id"], 2000)
    plain = api.get(f"/skus/{sku['id']}").json()
    assert "data" not in plain["data"]["relationships"]["prices"]
    assert "included" not in plain

    document = api.get("/prices", include="price_list,sku.shipping_category").json()
    price_list = api.first_id("price_lists")
    for item in document["data"]:
        assert item["relationships"]["price_list"]["data"] == {
            "type": "price_lists",
            "id": price_list,
        }
        assert item["relationships"]["sku"]["data"]["type"] == "skus"
    keys = [(r["type"], r["id"]) for r in document["included"]]
    assert len(keys) == len(set(keys)), "included resources are deduplicated"
    assert sorted(t for t, _ in keys) == [
        "price_lists",
        "shipping_categories",
        "skus",
        "skus",
    ]
    included_sku = next(r for r in document["included"] if r["id"] == sku["id"])
    assert "data" in included_sku["relationships"]["shipping_category"]
    assert "data" not in included_sku["relationships"]["prices"]

    nested = api.get(f"/skus/{sku['id']}", include="prices.sku").json()
    assert nested["data"]["relationships"]["prices"]["data"] == [
        {"type": "prices", "id": first["id"]}
    ]
    # The primary resource is never repeated in `included`.
    assert [(r["type"], r["id"]) for r in nested["included"]] == [("prices", first["id"])]


def test_sparse_fieldsets_give_linkage(api: Api) -> None:
    sku = api.sku("FIELDS-1", description="d")
    price(api, sku["id"], 500)
    document = api.get(
        f"/skus/{sku['id']}",
        **{"fields[skus]": "code,shipping_category", "include": "prices"},
    ).json()
    data = document["data"]
    assert data["attributes"] == {"code": "FIELDS-1"}
    assert list(data["relationships"]) == ["shipping_category"]
    assert data["relationships"]["shipping_category"]["data"]["type"] == "shipping_categories"
    listed = api.get("/prices", **{"fields[prices]": "amount_cents", "include": "sku"}).json()
    assert listed["data"][0]["attributes"] == {"amount_cents": 500}
    assert "relationships" not in listed["data"][0]
    assert listed["included"][0]["attributes"]["code"] == "FIELDS-1"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"include": "prices,nothing"},
            {
                "title": "Invalid field",
                "detail": "nothing is not a valid includable relationship of skus",
                "code": "INVALID_INCLUDE",
                "status": "400",
            },
        ),
        (
            {"include": "prices.nothing"},
            {
                "title": "Invalid field",
                "detail": "nothing is not a valid includable relationship of prices",
                "code": "INVALID_INCLUDE",
                "status": "400",
            },
        ),
        (
            {"sort": "code,-weight"},
            {
                "title": "Invalid sort criteria",
                "detail": "weight is not a valid sort criteria for skus",
                "code": "INVALID_SORT_CRITERIA",
                "status": "400",
            },
        ),
        (
            {"fields[nothings]": "a"},
            {
                "title": "Invalid resource",
                "detail": "nothings is not a valid resource.",
                "code": "INVALID_RESOURCE",
                "status": "400",
            },
        ),
        (
            {"fields[skus]": "code,colour"},
            {
                "title": "Invalid field",
                "detail": "colour is not a valid field for skus.",
                "code": "INVALID_FIELD",
                "status": "400",
            },
        ),
        (
            {"page[size]": "26"},
            {
                "title": "Invalid page value",
                "detail": "size exceeds maximum page size of 25.",
                "code": "INVALID_PAGE_VALUE",
                "status": "400",
            },
        ),
        (
            {"page[size]": "0"},
            {
                "title": "Invalid page value",
                "detail": "0 is not a valid value for size page parameter.",
                "code": "INVALID_PAGE_VALUE",
                "status": "400",
            },
        ),
        (
            {"page[number]": "0"},
            {
                "title": "Invalid page value",
                "detail": "0 is not a valid value for number page parameter.",
                "code": "INVALID_PAGE_VALUE",
                "status": "400",
            },
        ),
        (
            {"page[offset]": "10"},
            {
                "title": "Page parameter not allowed",
                "detail": "offset is not an allowed page parameter.",
                "code": "PARAM_NOT_ALLOWED",
                "status": "400",
            },
        ),
    ],
)
def test_bad_query_parameters(api: Api, params: dict[str, str], error: dict[str, str]) -> None:
    response = api.get("/skus", **params)
    assert response.status_code == 400
    assert response.json() == {"errors": [error]}


def test_paging_meta_and_links(api: Api, server: ClServer) -> None:
    for n in range(23):
        api.sku(f"PAGE-{n:02d}")
    default = api.get("/skus").json()
    assert len(default["data"]) == 10
    assert default["meta"] == {"record_count": 23, "page_count": 3}

    params = {"filter[q][code_start]": "PAGE-", "sort": "-code", "page[number]": "2"}
    params["page[size]"] = "5"
    document = api.get("/skus", **params).json()
    assert [s["attributes"]["code"] for s in document["data"]] == [
        f"PAGE-{n:02d}" for n in range(17, 12, -1)
    ]
    assert document["meta"] == {"record_count": 23, "page_count": 5}
    links = document["links"]
    assert list(links) == ["first", "prev", "next", "last"]
    for name, number in (("first", 1), ("prev", 1), ("next", 3), ("last", 5)):
        url = urlsplit(links[name])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{server.url}/api/skus"
        assert "%5B" in url.query, "brackets are percent-encoded like Rails' to_query"
        assert dict(parse_qsl(url.query)) == {**params, "page[number]": str(number)}
    last = api.get("/skus", **{**params, "page[number]": "5"}).json()
    assert len(last["data"]) == 3
    assert "next" not in last["links"]
    first = api.get("/skus", **{**params, "page[number]": "1"}).json()
    assert "prev" not in first["links"]
    beyond = api.get("/skus", **{**params, "page[number]": "9"}).json()
    assert beyond["data"] == []
    assert beyond["meta"] == {"record_count": 23, "page_count": 5}


def test_empty_collection(api: Api) -> None:
    document = api.get("/orders").json()
    assert document["data"] == []
    assert document["meta"] == {"record_count": 0, "page_count": 0}
    assert set(document["links"]) == {"first", "last"}


def test_sorting(api: Api) -> None:
    created = [api.sku(code, name) for code, name in (("B", "b"), ("C", "a"), ("A", "a"))]

    def codes(**params: str) -> list[str]:
        return [s["attributes"]["code"] for s in api.get("/skus", **params).json()["data"]]

    assert codes() == ["B", "C", "A"], "default order is creation order"
    assert codes(sort="code") == ["A", "B", "C"]
    assert codes(sort="-code") == ["C", "B", "A"]
    assert codes(sort="name,-code") == ["C", "A", "B"]
    assert codes(sort="-created_at") == ["A", "C", "B"]
    by_id = sorted(created, key=lambda s: s["id"])
    assert codes(sort="id") == [s["attributes"]["code"] for s in by_id]
    assert codes(sort="-id") == [s["attributes"]["code"] for s in reversed(by_id)]


def test_unknown_types_and_records(api: Api) -> None:
    assert api.get("/unicorns").status_code == 404
    assert api.get("/skus/abc/unicorns").status_code == 404
    missing = api.get("/skus/AAAAAAAAAA")
    assert missing.status_code == 404
    assert missing.json() == {
        "errors": [
            {
                "title": "Record not found",
                "detail": "The requested resource was not found. Please double-check the "
                "resource id.",
                "code": "RECORD_NOT_FOUND",
                "status": "404",
            }
        ]
    }
    assert api.update("skus", "AAAAAAAAAA", {"name": "x"}).json() == missing.json()
    assert api.delete("skus", "AAAAAAAAAA").json() == missing.json()
    assert api.get("/skus/AAAAAAAAAA/prices").json() == missing.json()


def test_related_endpoints(api: Api, server: ClServer) -> None:
    sku = api.sku("REL-1")
    prices = [price(api, sku["id"], 100)]
    other_list = api.made("price_lists", {"name": "USD", "currency_code": "USD"})
    prices.append(price(api, sku["id"], 200, other_list["id"]))
    related = api.get(f"/skus/{sku['id']}/prices", sort="-amount_cents", **{"page[size]": "1"})
    document = related.json()
    assert [p["id"] for p in document["data"]] == [prices[1]["id"]]
    assert document["meta"] == {"record_count": 2, "page_count": 2}
    assert document["links"]["next"].startswith(f"{server.url}/api/skus/{sku['id']}/prices?")
    filtered = api.get(f"/skus/{sku['id']}/prices", **{"filter[q][amount_cents_lt]": "150"})
    assert [p["id"] for p in filtered.json()["data"]] == [prices[0]["id"]]

    category = api.get(f"/skus/{sku['id']}/shipping_category").json()
    assert category["data"]["type"] == "shipping_categories"
    assert category["data"]["attributes"]["code"] == "merchandise"

    linkage = api.get(f"/skus/{sku['id']}/relationships/prices").json()
    assert linkage["data"] == [{"type": "prices", "id": p["id"]} for p in prices]
    assert linkage["links"]["related"] == f"{server.url}/api/skus/{sku['id']}/prices"


def test_organization_and_application(api: Api) -> None:
    organization = api.get("/organization").json()["data"]
    assert organization["type"] == "organizations"
    assert organization["attributes"]["slug"] == cl_fixtures.ORGANIZATION
    assert organization["attributes"]["domain"] == f"{cl_fixtures.ORGANIZATION}.commercelayer.io"
    assert "support_phone" in organization["attributes"]
    application = api.get("/application").json()["data"]
    assert application["type"] == "applications"
    assert application["attributes"]["kind"] == "integration"
    assert application["attributes"]["name"]
    token = api.client.headers["authorization"].split()[1]
    payload = cl_fixtures.decode_segment(token.split(".")[1])
    assert organization["id"] == payload["organization"]["id"]
    assert application["id"] == payload["application"]["id"]


def test_baseline_data(api: Api) -> None:
    market = api.get("/markets", include="merchant,price_list,inventory_model").json()
    assert market["meta"]["record_count"] == 1
    attributes = market["data"][0]["attributes"]
    assert attributes["code"] == "europe"
    included = {r["type"]: r["attributes"] for r in market["included"]}
    assert included["price_lists"]["code"] == "eur"
    assert included["price_lists"]["currency_code"] == "EUR"
    assert included["inventory_models"]["code"] == "default"
    assert included["merchants"]["name"]
    location = api.get("/stock_locations", include="address,inventory_stock_locations").json()
    assert location["data"][0]["attributes"]["code"] == "eu-warehouse"
    assert {r["type"] for r in location["included"]} == {
        "addresses",
        "inventory_stock_locations",
    }
    category = api.get("/shipping_categories").json()["data"][0]
    assert category["attributes"]["code"] == "merchandise"
    merchant = api.get("/merchants", include="address").json()
    assert merchant["included"][0]["type"] == "addresses"


TYPES_AND_REQUIRED = {
    "skus": ["code", "name", "shipping_category"],
    "shipping_categories": ["name"],
    "prices": ["amount_cents", "price_list", "sku"],
    "price_lists": ["name", "currency_code"],
    "stock_items": ["quantity", "stock_location", "sku"],
    "stock_locations": ["name", "address"],
    "markets": ["name", "merchant", "price_list", "inventory_model"],
    "merchants": ["name", "address"],
    "inventory_models": ["name"],
    "inventory_stock_locations": ["priority", "stock_location", "inventory_model"],
    "customers": ["email"],
    "customer_addresses": ["customer", "address"],
    "addresses": ["line_1", "city", "zip_code", "country_code", "phone"],
    "orders": ["market"],
    "line_items": ["quantity", "order", "unit_amount_cents"],
    "shipments": ["order", "inventory_stock_location"],
    "imports": ["resource_type", "inputs"],
    "webhooks": ["topic", "callback_url"],
}


@pytest.mark.parametrize(("type_", "required"), TYPES_AND_REQUIRED.items())
def test_every_resource_type(api: Api, type_: str, required: list[str]) -> None:
    listed = api.get(f"/{type_}")
    assert listed.status_code == 200
    assert set(listed.json()["meta"]) == {"record_count", "page_count"}
    empty = api.create(type_, {})
    assert empty.status_code == 422
    reported = [e["source"]["pointer"].rsplit("/", 1)[1] for e in empty.json()["errors"]]
    assert set(required) <= set(reported), reported
    for error in empty.json()["errors"]:
        assert error["code"] == "VALIDATION_ERROR"
        assert error["status"] == "422"
