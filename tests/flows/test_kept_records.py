"""What the store keeps of a failed source record: only the fields the flow reads, never a
secret, and nothing of it readable in the database file."""

import json

import httpx

from cartwire.connectors import get_connector
from cartwire.flows import MemoryLookups, process
from cartwire.flows.catalog import find
from cartwire.flows.reads import SourceFields
from tests.flows.support import REGISTRY, flow
from tests.flows.world import World, run_flow
from tests.support import run_cli


def test_a_failed_customer_keeps_no_password_hash_and_nothing_in_clear(world: World) -> None:
    with world.ct_client() as client:
        customers = client.get("customers", params={"limit": 500}).json()["results"]
    hashes = [c["password"] for c in customers if c.get("password")]
    assert hashes  # the commercetools customers do carry password hashes
    fault = {"method": "POST", "path": "/api/customers$", "status": 403, "count": 1000}
    httpx.post(f"{world.cl.url}/_sandbox/faults", json=fault).raise_for_status()
    result = run_flow(world, "ct-customers-to-cl-customers")
    assert result["failed"] > 0

    shown = run_cli(world.home, "runs", "show", str(result["run_id"]), "--json")
    failures = json.loads(shown.stdout)["failures"]
    assert len(failures) == result["failed"]
    read = {"id", "email", "firstName", "lastName", "lastModifiedAt"}  # the mapping's and keys
    assert all(set(f["record"]) == read for f in failures), failures[0]["record"]

    raw = world.database_bytes()
    assert b"FORBIDDEN" in raw  # the search works: the failure's code is in clear
    for customer in customers:
        assert customer["password"].encode() not in raw
        assert customer["lastName"].encode() not in raw


def test_the_prebuilt_product_flow_keeps_what_its_splits_read() -> None:
    products = find("ct-products-to-cl-skus").flow
    fields = SourceFields.of(products, get_connector("commercetools").endpoint("products"))
    variant = {
        "sku": "S-1",
        "attributes": [{"name": "colour", "value": "red"}],
        "images": [{"url": "u", "label": "front"}],
        "prices": [{"id": "p", "value": {"centAmount": 1}, "validFrom": "x"}],
    }
    product = {
        "id": "1",
        "key": "k",
        "version": 3,
        "lastModifiedAt": "t",
        "masterData": {
            "published": True,
            "current": {
                "name": {"en": "n"},
                "slug": {"en": "s"},
                "masterVariant": variant,
                "variants": [variant],
            },
            "staged": {"name": {"en": "draft"}},
        },
    }
    kept_variant = {
        "sku": "S-1",
        "images": [{"url": "u"}],
        "prices": [{"value": {"centAmount": 1}}],
    }
    kept = fields.keep(product)
    lookups = MemoryLookups({"currencies-to-price-lists": {}})
    assert process(products, kept, lookups) == process(products, product, lookups)
    assert kept == {
        "id": "1",
        "key": "k",
        "lastModifiedAt": "t",
        "masterData": {
            "current": {
                "name": {"en": "n"},
                "masterVariant": kept_variant,
                "variants": [kept_variant],
            }
        },
    }


def test_a_python_transform_keeps_the_whole_record_but_never_a_secret() -> None:
    text = """
        name: f
        source: {connector: commercetools, endpoint: products}
        steps:
          - map:
              fields:
                code: {from: key, transform: [{python: "json:dumps"}]}
        destination: {connector: commercelayer, endpoint: skus}
    """
    fields = SourceFields.of(flow(text), REGISTRY["commercetools"].endpoint("products"))
    record = {"key": "k", "other": {"apiToken": "t", "keep": 1}, "password": "h"}
    assert fields.keep(record) == {"key": "k", "other": {"keep": 1}}


def test_each_and_templates_keep_what_they_read() -> None:
    text = """
        name: f
        source: {connector: commercelayer, endpoint: orders}
        steps:
          - filter: {field: status, op: eq, value: placed}
          - map:
              fields:
                orderNumber: {template: "[[number]]-[[market.code]]"}
                lineItems:
                  from: line_items
                  each:
                    as: item
                    where: {field: item.item_type, op: eq, value: skus}
                    fields:
                      variant.sku: item.sku_code
                      price.currencyCode: currency_code
        destination: {connector: commercetools, endpoint: orders/import, mode: create-only}
    """
    fields = SourceFields.of(flow(text), REGISTRY["commercelayer"].endpoint("orders"))
    record = {
        "id": "o1",
        "number": 7,
        "status": "placed",
        "token": "secret-order-token",
        "market": {"code": "eu", "name": "Europe"},
        "currency_code": "EUR",
        "updated_at": "t",
        "line_items": [{"item_type": "skus", "sku_code": "S", "name": "n", "quantity": 1}],
    }
    assert fields.keep(record) == {
        "id": "o1",
        "number": 7,
        "status": "placed",
        "market": {"code": "eu"},
        "currency_code": "EUR",
        "updated_at": "t",
        "line_items": [{"item_type": "skus", "sku_code": "S"}],
    }


def test_items_a_split_or_each_goes_through_are_kept_in_number() -> None:
    text = """
        name: f
        source: {connector: commercetools, endpoint: products}
        steps:
          - split: {paths: [variants]}
          - map:
              fields:
                code: {value: x}
                tags: {from: labels, each: {fields: {kind: {value: label}}}}
        destination: {connector: commercelayer, endpoint: skus}
    """
    parsed = flow(text)
    fields = SourceFields.of(parsed, REGISTRY["commercetools"].endpoint("products"))
    record = {"key": "k", "variants": [{"labels": [{"a": 1}, "b"], "sku": "s"}, {"sku": "t"}]}
    kept = fields.keep(record)
    assert kept == {"key": "k", "variants": [{"labels": [{}, "b"]}, {}]}
    lookups = MemoryLookups({})
    assert process(parsed, kept, lookups) == process(parsed, record, lookups)
