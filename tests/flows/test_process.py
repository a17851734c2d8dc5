"""`process`: one source record through the shared steps and each output's steps.

The two flows in data/ are the issue's first and third prebuilt flows, written against the test
connectors: a commercetools product (master variant + variants) → Commerce Layer skus and
prices, and a placed Commerce Layer order (as the JSON:API reader flattens it) → a commercetools
OrderImportDraft.
"""

import copy
from pathlib import Path
from typing import Any

import pytest

from cartwire.flows import (
    Flow,
    MemoryLookups,
    OutputRecord,
    RecordError,
    Skipped,
    load_flow,
    process,
)
from cartwire.flows.lookups import fill_hint
from tests.flows.support import REGISTRY, flow

DATA = Path(__file__).parent / "data"
LOOKUPS = MemoryLookups({"currencies-to-price-lists": {"EUR": "eu-retail", "JPY": "jp-retail"}})


def _price(currency: str, cents: int, digits: int = 2, **more: Any) -> dict[str, Any]:
    value = {"type": "centPrecision", "currencyCode": currency, "centAmount": cents}
    return {"id": f"price-{currency}-{cents}", "value": {**value, "fractionDigits": digits}, **more}


def _variant(number: int, sku: str | None, prices: list[dict[str, Any]]) -> dict[str, Any]:
    variant: dict[str, Any] = {"id": number, "key": f"shirt-{number}", "prices": prices}
    if sku is not None:
        variant["sku"] = sku
    variant["images"] = [{"url": f"https://images.example.com/shirt-{number}.png"}]
    variant["attributes"] = [{"name": "size", "value": {"key": "m", "label": "M"}}]
    return variant


def _product() -> dict[str, Any]:
    """A commercetools product as `GET /products` returns it (trimmed to what matters)."""
    current = {
        "name": {"en-GB": "Cotton shirt", "de-DE": "Baumwollhemd"},
        "description": {"de-DE": "Ein Hemd aus Baumwolle"},
        "slug": {"en-GB": "cotton-shirt"},
        "categories": [{"typeId": "category", "id": "c1"}],
        "masterVariant": _variant(
            1, "SHIRT-S", [_price("EUR", 1999), _price("JPY", 2500, 0), _price("CHF", 2100)]
        ),
        "variants": [
            _variant(
                2,
                "SHIRT-M",
                [
                    _price("EUR", 2099),
                    _price("EUR", 1899, customerGroup={"typeId": "customer-group", "id": "g"}),
                ],
            ),
            _variant(3, None, [_price("EUR", 999)]),  # no sku: not sellable in Commerce Layer
        ],
    }
    return {
        "id": "8f2c1e6a-6b1d-4c71-9a55-6d0d6d1c2b10",
        "version": 7,
        "key": "shirt",
        "productType": {"typeId": "product-type", "id": "t1"},
        "masterData": {"published": True, "current": current, "staged": copy.deepcopy(current)},
        "lastModifiedAt": "2024-05-02T14:03:11.512Z",
    }


def _order() -> dict[str, Any]:
    """A placed Commerce Layer order with its line items and addresses included and flattened."""
    return {
        "id": "wxyzNrmOqb",
        "type": "orders",
        "number": 10001,
        "status": "placed",
        "currency_code": "EUR",
        "customer_email": "ann@example.com",
        "total_amount_cents": 4497,
        "placed_at": "2024-05-02T16:03:11.512+02:00",
        "shipping_address": {
            "id": "addr1",
            "type": "addresses",
            "first_name": "Ann",
            "last_name": "Lee",
            "line_1": "Invalidenstraße 1",
            "zip_code": "10115",
            "city": "Berlin",
            "country_code": "de",
        },
        "line_items": [
            {
                "id": "li1",
                "type": "line_items",
                "item_type": "skus",
                "sku_code": "SHIRT-M",
                "name": "Cotton shirt",
                "quantity": 2,
                "unit_amount_cents": 1999,
            },
            {
                "id": "li2",
                "type": "line_items",
                "item_type": "shipments",
                "sku_code": None,
                "name": "Shipment #1",
                "quantity": 1,
                "unit_amount_cents": 499,
            },
        ],
    }


@pytest.fixture(scope="module")
def products_flow() -> Flow:
    return load_flow(DATA / "ct-products-to-cl-skus.yaml", registry=REGISTRY)


@pytest.fixture(scope="module")
def orders_flow() -> Flow:
    return load_flow(DATA / "cl-orders-to-ct-orders.yaml", registry=REGISTRY)


def test_the_products_flow_as_the_runner_sees_it(products_flow: Flow) -> None:
    assert [t.kind for t in products_flow.triggers] == ["manual", "schedule"]
    assert products_flow.triggers[1].schedule == "*/15 * * * *"
    assert products_flow.source.filters == {"where": ["masterData(published = true)"]}
    assert products_flow.source.incremental
    skus, prices = products_flow.outputs
    assert (skus.name, skus.destination.key, skus.destination.mode) == ("skus", "code", "upsert")
    assert prices.destination.key == "sku_code,price_list"  # the endpoint's natural key
    assert products_flow.batch_size(skus) == 100
    assert products_flow.batch_size(prices) == 50
    assert products_flow.lookup_tables() == {"currencies-to-price-lists"}
    assert products_flow.settings.on_record_error == "continue"


def test_a_product_becomes_one_sku_per_variant(products_flow: Flow) -> None:
    results = process(products_flow, _product(), LOOKUPS)
    assert results["skus"] == [
        OutputRecord(
            {
                "code": "SHIRT-S",
                "name": "Cotton shirt",  # en finds en-GB
                "description": "Ein Hemd aus Baumwolle",  # no English: the German fallback
                "image_url": "https://images.example.com/shirt-1.png",
                "shipping_category": "merchandise",
                "reference": "shirt/shirt-1",
                "reference_origin": "commercetools",
            },
            "SHIRT-S",
        ),
        OutputRecord(
            {
                "code": "SHIRT-M",
                "name": "Cotton shirt",
                "description": "Ein Hemd aus Baumwolle",
                "image_url": "https://images.example.com/shirt-2.png",
                "shipping_category": "merchandise",
                "reference": "shirt/shirt-2",
                "reference_origin": "commercetools",
            },
            "SHIRT-M",
        ),
        Skipped("steps[1].filter", "filtered out: variant.sku exists is false"),
    ]


def test_and_its_prices_one_per_currency(products_flow: Flow) -> None:
    prices = process(products_flow, _product(), LOOKUPS)["prices"]
    assert prices[0] == OutputRecord(
        {
            "sku_code": "SHIRT-S",
            "price_list": "eu-retail",
            "currency_code": "EUR",
            "amount_cents": 1999,
            "compare_at_amount_cents": 1999,
        },
        "SHIRT-S/eu-retail",
    )
    assert prices[1] == OutputRecord(
        {
            "sku_code": "SHIRT-S",
            "price_list": "jp-retail",
            "currency_code": "JPY",
            "amount_cents": 2500,  # yen have no minor unit: centAmount is already whole yen
            "compare_at_amount_cents": 2500,
        },
        "SHIRT-S/jp-retail",
    )
    # No price list for francs: that price fails, with the field, transform and value; the
    # other prices of the same product go on.
    assert prices[2] == RecordError(
        at="outputs[1].steps[2].map.fields.price_list.transform[0]",
        reason='no entry for "CHF" in lookup table "currencies-to-price-lists"; '
        + fill_hint("currencies-to-price-lists"),
        field="price_list",
        transform="lookup",
        value="CHF",
    )
    assert str(prices[2]) == (
        "field price_list, transform lookup, value 'CHF': no entry for \"CHF\" in lookup"
        ' table "currencies-to-price-lists"; '
        + fill_hint("currencies-to-price-lists")
        + " (at outputs[1].steps[2].map.fields.price_list.transform[0])"
    )
    assert [p.record["amount_cents"] for p in prices if isinstance(p, OutputRecord)] == [
        1999,
        2500,
        2099,
    ]
    customer_group_price = prices[4]
    assert isinstance(customer_group_price, Skipped)
    assert customer_group_price.at == "outputs[1].steps[1].filter"
    # The variant without a sku was skipped in the shared steps, for every output.
    assert prices[5] == Skipped("steps[1].filter", "filtered out: variant.sku exists is false")
    assert len(prices) == 6


def test_a_product_without_variants_is_one_skipped_entry(products_flow: Flow) -> None:
    product = _product()
    product["masterData"]["current"]["masterVariant"] = None
    product["masterData"]["current"]["variants"] = []
    assert process(products_flow, product, LOOKUPS) == {
        "skus": [
            Skipped(
                "steps[0].split",
                "nothing at masterData.current.masterVariant, masterData.current.variants",
            )
        ],
        "prices": [
            Skipped(
                "steps[0].split",
                "nothing at masterData.current.masterVariant, masterData.current.variants",
            )
        ],
    }


def test_a_required_field_that_is_absent_fails_the_record(products_flow: Flow) -> None:
    product = _product()
    product["masterData"]["current"]["name"] = {}
    skus = process(products_flow, product, LOOKUPS)["skus"]
    assert skus[0] == RecordError(
        "outputs[0].steps[0].map.fields.name", "required, but absent", "name"
    )


def test_processing_is_pure(products_flow: Flow) -> None:
    product = _product()
    before = copy.deepcopy(product)
    first = process(products_flow, product, LOOKUPS)
    assert product == before
    assert process(products_flow, product, LOOKUPS) == first
    record = first["skus"][0]
    assert isinstance(record, OutputRecord)
    record.record["name"] = "changed"
    assert process(products_flow, product, LOOKUPS) != first


def test_output_records_share_nothing_with_the_source() -> None:
    passthrough = flow(
        """
        name: keep
        source: {connector: commercetools, endpoint: products}
        steps:
          - map: {fields: {code: key, images: "masterData.current.masterVariant.images"}}
        destination: {connector: commercelayer, endpoint: skus}
        """
    )
    product = _product()
    [written] = process(passthrough, product, LOOKUPS)["skus"]
    assert isinstance(written, OutputRecord)
    written.record["images"][0]["url"] = "changed"
    assert product["masterData"]["current"]["masterVariant"]["images"][0]["url"].endswith(".png")


def test_a_placed_commerce_layer_order_becomes_an_order_import_draft(orders_flow: Flow) -> None:
    assert orders_flow.outputs[0].name == "orders/import"
    assert orders_flow.outputs[0].destination.key == "orderNumber"
    assert process(orders_flow, _order(), LOOKUPS) == {
        "orders/import": [
            OutputRecord(
                {
                    "orderNumber": "10001",
                    "customerEmail": "ann@example.com",
                    "orderState": "Confirmed",
                    "completedAt": "2024-05-02T14:03:11.512Z",
                    "totalPrice": {"currencyCode": "EUR", "centAmount": 4497},
                    "shippingAddress": {
                        "firstName": "Ann",
                        "lastName": "Lee",
                        "streetName": "Invalidenstraße 1",
                        "postalCode": "10115",
                        "city": "Berlin",
                        "country": "DE",
                    },
                    "lineItems": [
                        {
                            "variant": {"sku": "SHIRT-M"},
                            "name": {"en": "Cotton shirt"},
                            "quantity": 2,
                            "price": {
                                "value": {
                                    "currencyCode": "EUR",
                                    "centAmount": 1999,
                                    "fractionDigits": 2,
                                }
                            },
                        }
                    ],  # the shipment line is not a line item in commercetools
                },
                "10001",
            )
        ]
    }


def test_an_error_inside_a_list_names_the_item(orders_flow: Flow) -> None:
    order = _order()
    order["line_items"][0]["quantity"] = "2.5"
    [error] = process(orders_flow, order, LOOKUPS)["orders/import"]
    assert error == RecordError(
        at="steps[0].map.fields.lineItems.each.fields.quantity.transform[0]",
        reason="'2.5' is not a whole number (round it first)",
        field="lineItems[0].quantity",
        transform="integer",
        value="2.5",
    )
    order = _order()
    del order["line_items"]
    [draft] = process(orders_flow, order, LOOKUPS)["orders/import"]
    assert isinstance(draft, OutputRecord)
    assert draft.record["lineItems"] == []  # the field's default


def test_an_empty_key_fails_the_record(orders_flow: Flow) -> None:
    keyless = flow(
        """
        name: keyless
        source: {connector: commercetools, endpoint: products}
        steps: [{map: {fields: {code: key, name: name}}}]
        destination: {connector: commercelayer, endpoint: skus}
        """
    )
    assert process(keyless, {"name": "x", "key": ""}, LOOKUPS)["skus"] == [
        RecordError(
            "destination.key",
            'the key field "code" is empty; upsert matches by it',
            "code",
            value="",
        )
    ]


def test_a_failure_in_the_shared_steps_fails_the_record_for_every_output() -> None:
    two = flow(
        """
        name: two
        source: {connector: commercetools, endpoint: products}
        steps:
          - filter: {field: stock, op: gt, value: 0}
        outputs:
          - name: a
            steps: [{map: {fields: {code: key}}}]
            destination: {connector: commercelayer, endpoint: skus}
          - name: b
            steps: [{map: {fields: {code: key}}}]
            destination: {connector: commercelayer, endpoint: skus}
        """
    )
    error = RecordError("steps[0].filter", "cannot compare str with int (gt)", "stock", value="9")
    assert process(two, {"key": "k", "stock": "9"}, LOOKUPS) == {"a": [error], "b": [error]}
    assert process(two, {"key": "k", "stock": 9}, LOOKUPS) == {
        "a": [OutputRecord({"code": "k"}, "k")],
        "b": [OutputRecord({"code": "k"}, "k")],
    }


@pytest.mark.parametrize(
    ("split", "expected"),
    [
        (
            "{path: items, as: item, parent: order}",
            [{"order": {"id": "o", "items": [{"n": 1}, {"n": 2}]}, "item": {"n": 1}}],
        ),
        ("{path: items, as: item}", [{"id": "o", "items": [{"n": 1}, {"n": 2}], "item": {"n": 1}}]),
        (
            "{path: items, parent: order}",
            [{"n": 1, "order": {"id": "o", "items": [{"n": 1}, {"n": 2}]}}],
        ),
        ("{path: items}", [{"n": 1}]),
        ("{paths: ['items[1]', missing, items]}", [{"n": 2}]),
    ],
)
def test_split_shapes(split: str, expected: list[dict[str, Any]]) -> None:
    splitting = flow(
        f"""
        name: splitting
        source: {{connector: commercetools, endpoint: products}}
        steps: [{{split: {split}}}]
        destination: {{connector: commercelayer, endpoint: events, mode: create-only}}
        """
    )
    results = process(splitting, {"id": "o", "items": [{"n": 1}, {"n": 2}]}, LOOKUPS)["events"]
    assert all(isinstance(r, OutputRecord) for r in results)
    assert [r.record for r in results if isinstance(r, OutputRecord)][: len(expected)] == expected


def test_splitting_into_non_mappings_needs_as() -> None:
    splitting = flow(
        """
        name: splitting
        source: {connector: commercetools, endpoint: products}
        steps: [{split: {path: tags}}]
        destination: {connector: commercelayer, endpoint: events, mode: create-only}
        """
    )
    assert process(splitting, {"tags": ["a"]}, LOOKUPS)["events"] == [
        RecordError("steps[0].split", "split without as needs mappings at its paths", value="a")
    ]
