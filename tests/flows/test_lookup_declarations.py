"""A flow file's `lookups:` section: checked on load like the rest of the file, and the keys a
flow needs known before any record is read (pure: no store, no sandbox)."""

from typing import Any

import pytest

from cartwire.flows import validate
from cartwire.flows.tables import needed_keys, states
from tests.flows.support import REGISTRY, as_text, flow, minimal

CURRENCY = {"from": "currency", "transform": [{"lookup": "currencies"}]}


def lookup_problems(lookups: Any, **fields: Any) -> list[str]:
    data = minimal(
        steps=[{"map": {"fields": {"code": "sku", "price_list": CURRENCY, **fields}}}],
        lookups=lookups,
    )
    return [str(p) for p in validate(as_text(data), registry=REGISTRY)]


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"currencies": {"default": {"EUR": "eur"}}}, []),
        ({"currencies": {"derive": {"endpoint": "skus", "key": "code", "value": "id"}}}, []),
        ({"currencies": {"required": ["EUR"]}}, []),
        (
            {"curencies": {"default": {"EUR": "eur"}}},
            ['lookups.curencies: unknown lookup table "curencies"; did you mean "currencies"?'],
        ),
        (
            {"currencies": {}},
            ["lookups.currencies: give default entries, derive, or required keys"],
        ),
        (
            {"currencies": {"derive": {"endpoint": "sku", "key": "code", "value": "id"}}},
            [
                'lookups.currencies.derive.endpoint: unknown endpoint "sku" of commercelayer; '
                'did you mean "skus"?'
            ],
        ),
        (
            {"currencies": {"derive": {"endpoint": "prices", "key": "code", "value": "id"}}},
            [
                'lookups.currencies.derive.endpoint: endpoint "prices" of commercelayer cannot '
                "be read from"
            ],
        ),
        (
            {"currencies": {"derive": {"endpoint": "skus", "key": "code"}}},
            ["lookups.currencies.derive.value: required"],
        ),
        (
            {"currencies": {"default": {"EUR": "eur"}, "derived": {}}},
            [
                'lookups.currencies: unknown key "derived"; did you mean "derive"?',
            ],
        ),
    ],
)
def test_the_lookups_section_is_validated(lookups: Any, expected: list[str]) -> None:
    assert lookup_problems(lookups) == expected


def test_keys_known_before_the_run() -> None:
    products = flow(
        """
        name: t
        source: {connector: commercetools, endpoint: products}
        steps:
          - map:
              fields:
                code: sku
                price_list: {from: currency, transform: [{lookup: currencies}]}
                shipping: {value: STANDARD, transform: [lower, {lookup: shipping}]}
                fallback: {value: X, transform: [{lookup: {table: other, default: none}}]}
                made:
                  value: a
                  transform: [{python: "tests.flows.test_transforms:explode"}, {lookup: made}]
        destination: {connector: commercelayer, endpoint: skus}
        lookups:
          currencies: {required: [EUR, USD]}
        """
    )
    assert needed_keys(products) == {"currencies": {"EUR", "USD"}, "shipping": {"standard"}}

    [currencies, made, other, shipping] = states(
        products, {"currencies": {"EUR": "eur"}, "shipping": {"standard": "std"}}, None, None
    )
    assert (currencies.status, currencies.ok) == ("imported", False)
    assert currencies.problem is not None
    assert currencies.problem.startswith(
        'lookup table "currencies" has no entry for "USD", which the flow needs (it has 1 entry '
        "imported with `cartwire lookups import`); import it with `cartwire lookups import "
        "currencies FILE.csv`"
    )
    assert (made.status, other.status, shipping.status) == ("missing", "missing", "imported")
    assert shipping.ok
