"""Record paths (missing is None, never an error), templates, and filter conditions."""

from typing import Any

import pytest

from cartwire.flows import paths
from cartwire.flows.results import RecordError
from cartwire.flows.schema import Condition
from cartwire.flows.steps import Failed, describe, matches

RECORD: dict[str, Any] = {
    "id": "p1",
    "payload": {"inner": 1},
    "name": {"en-US": "Shirt"},
    "variant": {
        "sku": "SHIRT-M",
        "images": [{"url": "https://img/1.png"}, {"url": "https://img/2.png"}],
        "attributes": [{"name": "size", "value": "M"}],
        "stock": 0,
        "price": 19.99,
        "published": False,
    },
    "tags": ["sale", "new"],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("id", "p1"),
        ("payload.id", "p1"),  # the payload. prefix is optional
        ("payload.payload.inner", 1),  # a field really named payload
        ("name.en-US", "Shirt"),
        ("variant.images[0].url", "https://img/1.png"),
        ("variant.images[-1].url", "https://img/2.png"),
        ("variant.images[2].url", None),
        ("variant.images[-3]", None),
        ("variant.sku.length", None),  # into a string
        ("variant.images.url", None),  # a name into a list
        ("id[0]", None),  # an index into a string
        ("missing.deeper[3].still", None),
        ("tags[1]", "new"),
    ],
)
def test_get(path: str, expected: Any) -> None:
    assert paths.get(RECORD, path) == expected


def test_payload_alone_is_the_record() -> None:
    assert paths.get(RECORD, "payload") is RECORD


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", 'bad path "": empty or surrounded by spaces'),
        (" a", 'bad path " a": empty or surrounded by spaces'),
        ("a..b", 'bad path "a..b": "" is not a field name with optional [index]'),
        ("a.[0]", 'bad path "a.[0]": "[0]" is not a field name with optional [index]'),
        ("a[x]", 'bad path "a[x]": "a[x]" is not a field name with optional [index]'),
        ("a b", 'bad path "a b": "a b" is not a field name with optional [index]'),
    ],
)
def test_bad_paths(path: str, message: str) -> None:
    with pytest.raises(paths.PathSyntaxError) as raised:
        paths.parse(path)
    assert str(raised.value) == message


def test_templates() -> None:
    template = "[[id]]/[[ variant.images[1].url ]]/[[payload.variant.stock]]/[[nothing]]/[[tags]]"
    assert paths.template_paths(template) == [
        "id",
        "variant.images[1].url",
        "payload.variant.stock",
        "nothing",
        "tags",
    ]
    assert paths.render(template, RECORD) == 'p1/https://img/2.png/0//["sale", "new"]'
    assert paths.render("[[variant.published]]-[[variant.price]]", RECORD) == "false-19.99"
    for bad in ["[[id", "id]]", "[[]]", "[[a..b]]"]:
        with pytest.raises(paths.PathSyntaxError):
            paths.template_paths(bad)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "variant.sku", "op": "exists"}, True),
        ({"field": "variant.stock", "op": "exists"}, True),  # 0 is a value
        ({"field": "variant.published", "op": "exists"}, True),
        ({"field": "variant.key", "op": "exists"}, False),
        ({"field": "variant.key", "op": "missing"}, True),
        ({"field": "variant.sku", "op": "eq", "value": "SHIRT-M"}, True),
        ({"field": "variant.sku", "op": "ne", "value": "SHIRT-M"}, False),
        ({"field": "variant.stock", "op": "eq", "value": 0}, True),
        ({"field": "variant.stock", "op": "eq", "value": "0"}, False),  # no type juggling
        ({"field": "variant.published", "op": "eq", "value": False}, True),
        ({"field": "variant.key", "op": "eq", "value": None}, True),
        ({"field": "variant.sku", "op": "in", "value": ["SHIRT-S", "SHIRT-M"]}, True),
        ({"field": "variant.sku", "op": "not_in", "value": ["SHIRT-S", "SHIRT-M"]}, False),
        ({"field": "variant.price", "op": "gt", "value": 19}, True),
        ({"field": "variant.price", "op": "gte", "value": 19.99}, True),
        ({"field": "variant.price", "op": "lt", "value": 19.99}, False),
        ({"field": "variant.price", "op": "lte", "value": 20}, True),
        ({"field": "variant.key", "op": "gt", "value": 1}, False),  # absent: never greater
        ({"field": "variant.sku", "op": "gt", "value": "SHIRT-A"}, True),  # text orders as text
        ({"field": "variant.sku", "op": "matches", "value": "^SHIRT-[SML]$"}, True),
        ({"field": "variant.sku", "op": "matches", "value": "XL"}, False),
        ({"field": "variant.stock", "op": "matches", "value": "^0$"}, True),
        ({"field": "variant.key", "op": "matches", "value": ".*"}, False),
        ({"field": "variant.images", "op": "matches", "value": ".*"}, False),
        (
            {
                "all": [
                    {"field": "id", "op": "eq", "value": "p1"},
                    {"field": "tags", "op": "exists"},
                ]
            },
            True,
        ),
        ([{"field": "id", "op": "eq", "value": "p1"}, {"field": "nope", "op": "exists"}], False),
        (
            {"any": [{"field": "id", "op": "eq", "value": "x"}, {"field": "tags", "op": "exists"}]},
            True,
        ),
        ({"not": {"field": "variant.published", "op": "eq", "value": True}}, True),
        (
            {
                "all": [
                    {"not": {"field": "variant.sku", "op": "missing"}},
                    {
                        "any": [
                            {"field": "variant.stock", "op": "gt", "value": 0},
                            {"field": "variant.price", "op": "lt", "value": 50},
                        ]
                    },
                ]
            },
            True,
        ),
    ],
)
def test_filter(condition: Any, expected: bool) -> None:
    assert matches(Condition.model_validate(condition), RECORD, ("steps", 0, "filter")) is expected


def test_a_comparison_that_makes_no_sense_fails_the_record() -> None:
    condition = Condition.model_validate({"field": "variant.price", "op": "gt", "value": "10"})
    with pytest.raises(Failed) as raised:
        matches(condition, RECORD, ("steps", 3, "filter"))
    assert raised.value.error == RecordError(
        "steps[3].filter", "cannot compare float with str (gt)", "variant.price", value=19.99
    )
    assert str(raised.value.error) == (
        "field variant.price, value 19.99: cannot compare float with str (gt) (at steps[3].filter)"
    )


def test_describe() -> None:
    condition = Condition.model_validate(
        {
            "any": [
                {"field": "a", "op": "exists"},
                {"not": {"field": "b", "op": "in", "value": [1, 2]}},
            ]
        }
    )
    assert describe(condition) == "(a exists or not b in [1, 2])"
