"""Ransack filters (`filter[q][…]`), raw and encoded brackets, and keyset walks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()

# Four SKUs chosen so that every predicate separates them somehow (S1…S4 in creation order).
SKUS: list[dict[str, Any]] = [
    {
        "code": "TSHIRT-RED",
        "name": "Red T-shirt",
        "description": "cotton",
        "reference": "ext-1",
        "metadata": {"color": "red", "size": {"eu": 40}},
    },
    {"code": "TSHIRT-BLUE", "name": "Blue T-shirt", "do_not_ship": True},
    {"code": "MUG-1", "name": "Mug", "description": "", "reference": "ext_3%"},
    {"code": "CAP", "name": "cap 100%", "description": "   ", "reference": "ext-4"},
]
ALL = {"S1", "S2", "S3", "S4"}
CASES: list[tuple[str, str, set[str]]] = [
    ("code_eq", "TSHIRT-RED", {"S1"}),
    ("code_eq", "tshirt-red", set()),
    ("code_not_eq", "CAP", {"S1", "S2", "S3"}),
    ("reference_not_eq", "ext-1", {"S3", "S4"}),
    ("reference_not_eq_or_null", "ext-1", {"S2", "S3", "S4"}),
    ("reference_eq_or_null", "ext-1", {"S1", "S2"}),
    ("code_not_eq_all", "CAP,MUG-1", {"S1", "S2"}),
    ("code_eq_any", "CAP,MUG-1", {"S3", "S4"}),
    ("name_matches", "%t-shirt", {"S1", "S2"}),
    ("name_matches", "cap 100\\%", {"S4"}),
    ("name_matches", "m_g", {"S3"}),
    ("name_does_not_match", "%shirt%", {"S3", "S4"}),
    ("name_matches_any", "Mug,cap%", {"S3", "S4"}),
    ("name_matches_all", "%t-%,%red%", {"S1"}),
    ("name_does_not_match_any", "%red%,%blue%", ALL),
    ("name_does_not_match_all", "%red%,%blue%", {"S3", "S4"}),
    ("code_lt", "MUG-1", {"S4"}),
    ("code_lteq", "MUG-1", {"S3", "S4"}),
    ("code_gt", "MUG-1", {"S1", "S2"}),
    ("code_gteq", "TSHIRT-RED", {"S1"}),
    ("code_lt_any", "CAP,MUG-1", {"S4"}),
    ("code_gteq_all", "CAP,MUG-1", {"S1", "S2", "S3"}),
    ("description_present", "true", {"S1"}),
    ("description_present", "false", {"S2", "S3", "S4"}),
    ("description_blank", "true", {"S2", "S3", "S4"}),
    ("description_blank", "false", {"S1"}),
    ("description_null", "true", {"S2"}),
    ("description_null", "false", {"S1", "S3", "S4"}),
    ("description_not_null", "true", {"S1", "S3", "S4"}),
    ("description_not_null", "false", {"S2"}),
    ("code_in", "CAP,MUG-1", {"S3", "S4"}),
    ("reference_in_or_null", "ext-1", {"S1", "S2"}),
    ("code_not_in", "CAP,MUG-1", {"S1", "S2"}),
    ("reference_not_in_or_null", "ext-1,ext-4", {"S2", "S3"}),
    ("code_start", "tshirt", {"S1", "S2"}),
    ("code_not_start", "tshirt", {"S3", "S4"}),
    ("code_start_any", "MUG,CAP", {"S3", "S4"}),
    ("code_start_all", "T,TSHIRT-R", {"S1"}),
    ("code_not_start_any", "T,M", ALL),
    ("code_not_start_all", "T,M", {"S4"}),
    ("code_end", "red", {"S1"}),
    ("code_not_end", "red", {"S2", "S3", "S4"}),
    ("code_end_any", "red,blue", {"S1", "S2"}),
    ("code_end_all", "-red,red", {"S1"}),
    ("code_not_end_any", "red,blue", ALL),
    ("code_not_end_all", "red,blue", {"S3", "S4"}),
    ("name_cont", "shirt", {"S1", "S2"}),
    ("name_not_cont", "shirt", {"S3", "S4"}),
    ("name_cont_any", "mug,cap", {"S3", "S4"}),
    ("name_cont_all", "t-shirt,red", {"S1"}),
    ("name_not_cont_all", "shirt,mug", {"S4"}),
    ("reference_cont", "_3%", {"S3"}),
    ("name_i_cont", "MUG", {"S3"}),
    ("metadata_jcont", '{"color":"red"}', {"S1"}),
    ("metadata_jcont", '{"size":{"eu":40}}', {"S1"}),
    ("metadata_jcont", '{"color":"green"}', set()),
    ("do_not_ship_true", "true", {"S2"}),
    ("do_not_ship_true", "false", {"S1", "S3", "S4"}),
    ("do_not_ship_false", "true", {"S1", "S3", "S4"}),
    ("do_not_ship_eq", "true", {"S2"}),
    ("name_or_code_cont", "mug", {"S3"}),
    ("code_or_reference_eq", "ext-4", {"S4"}),
    ("name_and_code_cont", "t", {"S1", "S2"}),
    ("shipping_category_name_eq", "Merchandise", ALL),
    ("shipping_category_code_eq", "nope", set()),
    ("prices_amount_cents_gt", "1500", {"S2"}),
    ("prices_amount_cents_null", "true", {"S3", "S4"}),
    ("stock_items_quantity_gteq", "5", {"S3"}),
    # Ransack ignores conditions whose value is blank.
    ("code_eq", "", ALL),
    ("code_in", "", ALL),
    ("description_null", "maybe", ALL),
]


@pytest.fixture
def catalogue(api: Api) -> dict[str, dict[str, Any]]:
    skus = {f"S{n}": api.sku(**attributes) for n, attributes in enumerate(SKUS, 1)}
    price_list = api.first_id("price_lists")
    for label, cents in (("S1", 1000), ("S2", 2000)):
        api.made(
            "prices",
            {"amount_cents": cents},
            sku=("skus", skus[label]["id"]),
            price_list=("price_lists", price_list),
        )
    api.made(
        "stock_items",
        {"quantity": 5, "sku_code": "MUG-1"},
        stock_location=("stock_locations", api.first_id("stock_locations")),
    )
    return skus


def labels(catalogue: dict[str, dict[str, Any]], document: dict[str, Any]) -> set[str]:
    by_id = {sku["id"]: label for label, sku in catalogue.items()}
    assert document["meta"]["record_count"] == len(document["data"])
    return {by_id[item["id"]] for item in document["data"]}


@pytest.mark.parametrize(("key", "value", "expected"), CASES)
def test_predicates(
    api: Api, catalogue: dict[str, dict[str, Any]], key: str, value: str, expected: set[str]
) -> None:
    response = api.get("/skus", **{f"filter[q][{key}]": value, "page[size]": "25"})
    assert response.status_code == 200, response.text
    assert labels(catalogue, response.json()) == expected


def test_every_documented_predicate_is_understood(api: Api) -> None:
    documented = [
        "eq",
        "eq_or_null",
        "not_eq",
        "not_eq_or_null",
        "not_eq_all",
        "matches",
        "does_not_match",
        "matches_any",
        "matches_all",
        "does_not_match_any",
        "does_not_match_all",
        "lt",
        "lteq",
        "gt",
        "gteq",
        "lt_any",
        "lteq_any",
        "gt_any",
        "gteq_any",
        "lt_all",
        "lteq_all",
        "gt_all",
        "gteq_all",
        "present",
        "blank",
        "null",
        "not_null",
        "in",
        "in_or_null",
        "not_in",
        "not_in_or_null",
        "start",
        "not_start",
        "start_any",
        "start_all",
        "not_start_any",
        "not_start_all",
        "end",
        "not_end",
        "end_any",
        "end_all",
        "not_end_any",
        "not_end_all",
        "cont",
        "not_cont",
        "cont_any",
        "cont_all",
        "not_cont_all",
        "true",
        "false",
    ]
    for predicate in documented:
        response = api.get("/skus", **{f"filter[q][code_{predicate}]": "true"})
        assert response.status_code == 200, (predicate, response.text)


def test_filters_on_ids_and_related_attributes(
    api: Api, catalogue: dict[str, dict[str, Any]]
) -> None:
    wanted = f"{catalogue['S1']['id']},{catalogue['S3']['id']}"
    assert labels(catalogue, api.get("/skus", **{"filter[q][id_in]": wanted}).json()) == {
        "S1",
        "S3",
    }
    assert labels(catalogue, api.get("/skus", **{"filter[id]": wanted}).json()) == {"S1", "S3"}
    category = api.first_id("shipping_categories")
    document = api.get("/skus", **{"filter[q][shipping_category_id_eq]": category}).json()
    assert labels(catalogue, document) == ALL

    def price_codes(**params: str) -> set[str]:
        document = api.get("/prices", include="sku", **params).json()
        return {r["attributes"]["code"] for r in document.get("included", [])}

    assert price_codes(**{"filter[q][sku_code_eq]": "TSHIRT-RED"}) == {"TSHIRT-RED"}
    assert price_codes(**{"filter[q][sku_code_in]": "TSHIRT-RED,TSHIRT-BLUE"}) == {
        "TSHIRT-RED",
        "TSHIRT-BLUE",
    }
    assert price_codes(**{"filter[q][sku_name_cont]": "blue"}) == {"TSHIRT-BLUE"}
    assert price_codes(**{"filter[q][amount_cents_in]": "1000,3000"}) == {"TSHIRT-RED"}
    price_list = api.first_id("price_lists")
    assert len(price_codes(**{"filter[q][price_list_id_eq]": price_list})) == 2
    location = api.first_id("stock_locations")
    items = api.get("/stock_items", **{"filter[q][stock_location_id_eq]": location}).json()
    assert items["meta"]["record_count"] == 1
    markets = api.get("/markets", **{"filter[q][price_list_currency_code_eq]": "EUR"}).json()
    assert markets["meta"]["record_count"] == 1


def test_raw_and_encoded_brackets_are_the_same(
    api: Api, catalogue: dict[str, dict[str, Any]]
) -> None:
    raw = "filter[q][code_in]=CAP,MUG-1&page[size]=1&sort=-code"
    encoded = "filter%5Bq%5D%5Bcode_in%5D=CAP%2CMUG-1&page%5Bsize%5D=1&sort=-code"
    mixed = "filter[q]%5Bcode_in%5D=CAP,MUG-1&page%5Bsize]=1&sort=-code"
    documents = [api.get(f"/skus?{query}").json() for query in (raw, encoded, mixed)]
    for document in documents:
        assert [s["attributes"]["code"] for s in document["data"]] == ["MUG-1"]
        assert document["meta"] == {"record_count": 2, "page_count": 2}
    assert len({json.dumps(d["links"]) for d in documents}) == 1
    as_array = api.get("/skus?filter[q][code_in][]=CAP&filter[q][code_in][]=MUG-1").json()
    assert as_array["meta"]["record_count"] == 2


def _shift(stamp: str, **delta: float) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(**delta)


def test_datetime_filters_compare_instants(api: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    stamp = catalogue["S2"]["attributes"]["created_at"]
    moment = _shift(stamp)
    forms = [
        stamp,
        moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z",
        moment.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds"),
    ]
    for form in forms:
        for predicate, expected in (
            ("eq", {"S2"}),
            ("gt", {"S3", "S4"}),
            ("gteq", {"S2", "S3", "S4"}),
            ("lt", {"S1"}),
            ("lteq", {"S1", "S2"}),
        ):
            params = {f"filter[q][created_at_{predicate}]": form}
            assert labels(catalogue, api.get("/skus", **params).json()) == expected, (
                form,
                predicate,
            )
    assert (
        labels(catalogue, api.get("/skus", **{"filter[q][updated_at_gt]": "2001-01-01"}).json())
        == ALL
    )
    later = (moment + timedelta(days=1)).strftime("%Y-%m-%d")
    assert (
        labels(catalogue, api.get("/skus", **{"filter[q][updated_at_gt]": later}).json()) == set()
    )


def test_updated_at_keysets_are_strict(api: Api, catalogue: dict[str, dict[str, Any]]) -> None:
    stamps = [
        api.get(f"/skus/{catalogue[f'S{n}']['id']}").json()["data"]["attributes"]["updated_at"]
        for n in range(1, 5)
    ]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4
    api.update("skus", catalogue["S1"]["id"], {"name": "Renamed"})
    newer = api.get("/skus", **{"filter[q][updated_at_gt]": stamps[-1], "sort": "updated_at"})
    assert labels(catalogue, newer.json()) == {"S1"}


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("filter[q][weight_eq]", "weight_eq is not allowed."),
        ("filter[q][code_resembles]", "code_resembles is not allowed."),
        ("filter[q][code]", "code is not allowed."),
        ("filter[q][metadata_eq]", "metadata_eq is not allowed."),
        ("filter[q][code_jcont]", "code_jcont is not allowed."),
        ("filter[q][shipping_category_weight_eq]", "shipping_category_weight_eq is not allowed."),
        ("filter[q][name_or_weight_cont]", "name_or_weight_cont is not allowed."),
        ("filter[code]", "code is not allowed."),
    ],
)
def test_filter_not_allowed(api: Api, key: str, detail: str) -> None:
    response = api.get("/skus", **{key: "1"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "title": "Filter not allowed",
                "detail": detail,
                "code": "FILTER_NOT_ALLOWED",
                "status": "400",
            }
        ]
    }


def test_keyset_walk_by_id(api: Api, server: ClServer) -> None:
    category = api.first_id("shipping_categories")
    records = [
        {
            "attributes": {"code": f"KEY-{n:03d}", "name": f"Key {n}"},
            "relationships": {"shipping_category": {"type": "shipping_categories", "id": category}},
        }
        for n in range(130)
    ]
    loaded = server.admin("POST", "load", json={"type": "skus", "records": records})
    assert loaded.status_code == 200, loaded.text
    expected = sorted(loaded.json()["ids"])
    seen: list[str] = []
    last = ""
    while True:
        params = {"sort": "id", "page[size]": "25", "page[number]": "1"}
        if last:
            params["filter[q][id_gt]"] = last
        document = api.get("/skus", **params).json()
        assert document["meta"]["record_count"] == len(expected) - len(seen)
        if not document["data"]:
            break
        seen += [item["id"] for item in document["data"]]
        last = seen[-1]
    assert seen == expected
    between = api.get(
        "/skus",
        **{
            "sort": "-id",
            "filter[q][id_gteq]": expected[10],
            "filter[q][id_lt]": expected[20],
            "filter[q][code_start]": "KEY",
            "page[size]": "3",
            "page[number]": "2",
        },
    ).json()
    assert [item["id"] for item in between["data"]] == expected[16:13:-1]
    assert between["meta"]["record_count"] == 10
