"""Every transform, table-driven: what it makes of a value, and the reason when it cannot."""

from datetime import UTC, datetime
from typing import Any

import pytest

from cartwire.flows import MemoryLookups
from cartwire.flows.schema import TransformCall
from cartwire.flows.transforms import TRANSFORMS, Context, TransformError, apply

LOOKUPS = MemoryLookups({"channels-to-stock-locations": {"ch-eu": "LOC-EU", "7": "LOC-7"}})
RECORD = {"product": {"key": "shirt"}, "variant": {"sku": "SHIRT-M"}}


def transform(spec: Any, value: Any) -> Any:
    return apply(TransformCall.model_validate(spec), value, Context(RECORD, LOOKUPS))


def upper_name(value: Any, record: dict[str, Any]) -> str:
    """A custom transform for the `python:` tests."""
    return f"{record['product']['key']}:{value}".upper()


def explode(value: Any, record: dict[str, Any]) -> None:
    raise RuntimeError("no such colour")


def test_every_transform_in_the_grammar_is_implemented() -> None:
    assert set(TransformCall.model_fields) == set(TRANSFORMS)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        # strings
        ("string", 12, "12"),
        ("string", 1.5, "1.5"),
        ("string", True, "true"),
        ("string", {"b": 1, "a": [2]}, '{"a": [2], "b": 1}'),
        ("upper", "shirt", "SHIRT"),
        ("lower", "ShIrT", "shirt"),
        ("trim", "  a b \n", "a b"),
        ({"truncate": 3}, "abcdef", "abc"),
        ({"truncate": 10}, "abc", "abc"),
        ("join", ["a", None, 3], "a,3"),
        ({"join": " | "}, ["a", "b"], "a | b"),
        ("split_string", "a, b,,c ", ["a", "b", "c"]),
        ({"split_string": ";"}, "x;y", ["x", "y"]),
        # numbers
        ("number", "19.99", 19.99),
        ("number", " 42 ", 42),
        ("number", 3.0, 3),
        ("integer", "7", 7),
        ("integer", 7.0, 7),
        ({"round": 2}, 2.675, 2.68),  # a float 2.675 is 2.67499…; its decimal 2.675 rounds up
        ({"round": 2}, "-2.675", -2.68),  # half up is away from zero
        ("round", "2.5", 3),
        ("round", 3.49, 3),
        # money
        ("cents", "19.99", 1999),
        ("cents", 19.99, 1999),  # not 1998, as int(19.99 * 100) gives
        ("cents", 0.1, 10),
        ("cents", "19.995", 2000),  # half up
        ("cents", "19.994", 1999),
        ("cents", "-0.005", -1),
        ("cents", 20, 2000),
        ({"cents": {"fraction_digits": 0}}, "1500", 1500),  # JPY
        ({"cents": {"fraction_digits": 0}}, "1500.5", 1501),
        ({"cents": {"fraction_digits": 3}}, "1.2345", 1235),  # KWD
        ("cents", {"centAmount": 1999, "currencyCode": "EUR", "fractionDigits": 2}, 1999),
        (
            "cents",
            {
                "type": "centPrecision",
                "centAmount": 1500,
                "currencyCode": "JPY",
                "fractionDigits": 0,
            },
            1500,
        ),
        ("from_cents", 1999, 19.99),
        ("from_cents", "1999", 19.99),
        ("from_cents", 2000, 20),
        ({"from_cents": {"fraction_digits": 0}}, 1500, 1500),
        ({"from_cents": {"fraction_digits": 3}}, 1235, 1.235),
        ("from_cents", {"centAmount": 1500, "currencyCode": "JPY", "fractionDigits": 0}, 1500),
        ("from_cents", {"centAmount": 1999, "currencyCode": "EUR", "fractionDigits": 2}, 19.99),
        # dates and times
        ("datetime", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
        ("datetime", "2024-03-01T10:00:00.123Z", "2024-03-01T10:00:00.123Z"),
        ("datetime", "2024-03-01T10:00:00.123456Z", "2024-03-01T10:00:00.123456Z"),
        ("datetime", "2024-03-01T11:00:00+01:00", "2024-03-01T10:00:00Z"),
        ("datetime", "2024-03-01T10:00:00", "2024-03-01T10:00:00Z"),  # no offset: UTC
        (
            {"datetime": {"timezone": "Europe/Berlin"}},
            "2024-01-15T10:00:00",
            "2024-01-15T09:00:00Z",
        ),
        (
            {"datetime": {"timezone": "Europe/Berlin"}},
            "2024-07-15T10:00:00",
            "2024-07-15T08:00:00Z",
        ),  # summer
        (
            {"datetime": {"timezone": "Europe/Berlin"}},
            "2024-07-15T10:00:00Z",
            "2024-07-15T10:00:00Z",
        ),  # an offset wins
        (
            {"datetime": {"to": "Europe/Berlin"}},
            "2024-07-15T10:00:00Z",
            "2024-07-15T12:00:00+02:00",
        ),
        (
            {"datetime": {"to": "America/New_York"}},
            "2024-03-10T07:30:00Z",
            "2024-03-10T03:30:00-04:00",
        ),  # DST began 07:00Z
        (
            {"datetime": {"to": "America/New_York"}},
            "2024-03-10T06:30:00Z",
            "2024-03-10T01:30:00-05:00",
        ),
        ({"datetime": {"to": "Asia/Kolkata"}}, "2024-01-01T00:00:00Z", "2024-01-01T05:30:00+05:30"),
        (
            {"datetime": {"format": "%d/%m/%Y %H:%M", "timezone": "Europe/London", "to": "UTC"}},
            "15/07/2024 09:00",
            "2024-07-15T08:00:00Z",
        ),
        ({"datetime": {"output": "%Y-%m-%d"}}, "2024-12-31T23:30:00-02:00", "2025-01-01"),
        ("datetime", datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00Z"),
        ("datetime", "2024-03-01", "2024-03-01T00:00:00Z"),
        # localized strings
        ({"localized": "en"}, {"en": "Shirt", "de": "Hemd"}, "Shirt"),
        (
            {"localized": {"locale": "fr", "fallback": ["de", "en"]}},
            {"en": "Shirt", "de": "Hemd"},
            "Hemd",
        ),
        (
            {"localized": {"locale": "en"}},
            {"de-DE": "Hemd", "en-US": "Shirt"},
            "Shirt",
        ),  # language match
        ({"localized": {"locale": "en-GB"}}, {"en-US": "Shirt"}, "Shirt"),
        (
            {"localized": {"locale": "fr", "fallback": ["it"]}},
            {"de": "Hemd", "en": "Shirt"},
            "Hemd",
        ),  # any, last
        ({"localized": {"locale": "en"}}, {"en": "", "de": "Hemd"}, "Hemd"),  # empty is absent
        ({"localized": "en"}, {}, None),
        ({"localized": "en"}, "already text", "already text"),
        # lookups and value maps
        ({"lookup": "channels-to-stock-locations"}, "ch-eu", "LOC-EU"),
        ({"lookup": "channels-to-stock-locations"}, 7, "LOC-7"),  # keys compare as text
        (
            {"lookup": {"table": "channels-to-stock-locations", "default": "LOC-MAIN"}},
            "ch-us",
            "LOC-MAIN",
        ),
        ({"lookup": {"table": "channels-to-stock-locations", "missing": "null"}}, "ch-us", None),
        ({"lookup": {"table": "channels-to-stock-locations", "missing": "keep"}}, "ch-us", "ch-us"),
        ({"map_values": {"Open": "placed", "1": "one"}}, "Open", "placed"),
        ({"map_values": {"Open": "placed", "1": "one"}}, 1, "one"),
        ({"map_values": {"Open": "placed"}}, "Closed", "Closed"),
        # making values
        ({"default": "n/a"}, None, "n/a"),
        ({"default": "n/a"}, "", ""),  # only absent values are replaced
        ({"template": "[[product.key]]-[[payload.variant.sku]]"}, None, "shirt-SHIRT-M"),
        ({"template": "[[product.key]]/[[product.missing]]"}, "ignored", "shirt/"),
        ({"python": "tests.flows.test_transforms:upper_name"}, "m", "SHIRT:M"),
    ],
)
def test_transform(spec: Any, value: Any, expected: Any) -> None:
    result = transform(spec, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "spec",
    [
        "string",
        "upper",
        {"truncate": 2},
        "number",
        "cents",
        "from_cents",
        "datetime",
        {"localized": "en"},
        {"lookup": "channels-to-stock-locations"},
        "join",
        {"map_values": {"a": "b"}},
    ],
)
def test_an_absent_value_passes_through(spec: Any) -> None:
    assert transform(spec, None) is None


@pytest.mark.parametrize(
    ("spec", "value", "reason"),
    [
        ("upper", 5, "expected a string, got int 5 (add the string transform)"),
        ({"truncate": 2}, ["a"], "expected a string, got a list (add the string transform)"),
        ("number", "12abc", "not a number: '12abc'"),
        ("number", "NaN", "not a finite number: 'NaN'"),
        ("number", True, "expected a number, got bool True"),
        ("integer", "7.5", "'7.5' is not a whole number (round it first)"),
        ("cents", "EUR 19.99", "not a number: 'EUR 19.99'"),
        (
            "cents",
            {"centAmount": "1999"},
            "bad money object {'centAmount': '1999'}: centAmount and fractionDigits are ints",
        ),
        ("from_cents", 19.99, "19.99 is not a whole number (round it first)"),
        ("datetime", "yesterday", "'yesterday' is not an ISO 8601 date/time"),
        (
            {"datetime": {"format": "%d/%m/%Y"}},
            "2024-01-01",
            "'2024-01-01' is not the format \"%d/%m/%Y\"",
        ),
        ("datetime", 1700000000, "expected a date/time string, got int 1700000000"),
        ({"localized": "en"}, ["en"], "expected a localized string (locale → text), got a list"),
        (
            {"lookup": "channels-to-stock-locations"},
            "ch-us",
            'no entry for "ch-us" in lookup table "channels-to-stock-locations"; import it with'
            " `cartwire lookups import channels-to-stock-locations FILE.csv` (a CSV file with the"
            " header source,target and one row per value: the value in the records, the value to"
            " write)",
        ),
        (
            {"lookup": "no-such-table"},
            "ch-eu",
            'no entry for "ch-eu" in lookup table "no-such-table"; import it with'
            " `cartwire lookups import no-such-table FILE.csv` (a CSV file with the header"
            " source,target and one row per value: the value in the records, the value to write)",
        ),
        ("join", "a,b", "expected a list, got str 'a,b'"),
        (
            {"python": "tests.flows.test_transforms:explode"},
            1,
            "tests.flows.test_transforms:explode raised RuntimeError: no such colour",
        ),
        (
            {"python": "tests.flows.no_such_module:f"},
            1,
            'cannot import python function "tests.flows.no_such_module:f": No module named'
            " 'tests.flows.no_such_module'",
        ),
        (
            {"python": "tests.flows.test_transforms:nothing"},
            1,
            'cannot import python function "tests.flows.test_transforms:nothing": module'
            " 'tests.flows.test_transforms' has no attribute 'nothing'",
        ),
        (
            {"python": "tests.flows.test_transforms:RECORD"},
            1,
            'python "tests.flows.test_transforms:RECORD" is not a function',
        ),
    ],
)
def test_transform_errors(spec: Any, value: Any, reason: str) -> None:
    with pytest.raises(TransformError) as raised:
        transform(spec, value)
    assert str(raised.value) == reason
