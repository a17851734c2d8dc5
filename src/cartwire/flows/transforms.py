"""The transform functions a map field's chain applies, in order, to its value.

Each function takes the value, its validated arguments (see `schema.TransformCall`) and the
`Context` (the record being mapped and the lookup tables), and returns the new value or raises
`TransformError` with a reason a user can act on. The caller adds which field, transform and
value failed, and fails only that record.

An absent value (None) passes through every transform unchanged, except `default`, `template`
and `python`, whose job may be to make one; so a chain never needs a guard for sparse records.

Numbers are handled as `Decimal` and rounded half up (19.995 → 20.00), never as binary floats:
money is converted by scaling a decimal, so 19.99 becomes 1999 cents, not 1998.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from cartwire.flows import paths
from cartwire.flows.lookups import LookupTables, fill_hint
from cartwire.flows.schema import DatetimeArgs, LocalizedArgs, LookupArgs, MoneyArgs, TransformCall
from cartwire.flows.schema_types import NoArgs
from cartwire.platforms.registry import MONEY_READER, registry


class TransformError(ValueError):
    """Why a transform could not convert a value."""


@dataclass(frozen=True)
class Context:
    record: Any  # the record the field is mapped from (what paths and templates read)
    lookups: LookupTables


Transform = Callable[[Any, Any, Context], Any]
TRANSFORMS: dict[str, Transform] = {}
_MAKES_VALUES = {"default", "template", "python"}  # called with None too


def transform(name: str) -> Callable[[Transform], Transform]:
    def register(fn: Transform) -> Transform:
        TRANSFORMS[name] = fn
        return fn

    return register


def apply(call: TransformCall, value: Any, context: Context) -> Any:
    if value is None and call.kind not in _MAKES_VALUES:
        return None
    return TRANSFORMS[call.kind](value, call.args, context)


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else f"{type(value).__name__} {value!r}"


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TransformError(f"expected a string, got {_kind(value)} (add the string transform)")
    return value


def _decimal(value: Any) -> Decimal:
    """A number from an int, a float (by its shortest repr, so 19.99 stays 19.99) or a string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TransformError(f"expected a number, got {_kind(value)}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise TransformError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise TransformError(f"not a finite number: {value!r}")
    return number


def _plain(number: Decimal) -> int | float:
    """A JSON-ready number: an int when whole, else a float."""
    return int(number) if number == number.to_integral_value() else float(number)


# --- strings ------------------------------------------------------------------------------


@transform("string")
def to_string(value: Any, _: NoArgs, __: Context) -> str:
    return paths.text(value)


@transform("upper")
def upper(value: Any, _: NoArgs, __: Context) -> str:
    return _string(value).upper()


@transform("lower")
def lower(value: Any, _: NoArgs, __: Context) -> str:
    return _string(value).lower()


@transform("trim")
def trim(value: Any, _: NoArgs, __: Context) -> str:
    return _string(value).strip()


@transform("truncate")
def truncate(value: Any, length: int, _: Context) -> str:
    return _string(value)[:length]


@transform("join")
def join(value: Any, separator: str, _: Context) -> str:
    if not isinstance(value, list):
        raise TransformError(f"expected a list, got {_kind(value)}")
    return separator.join(paths.text(item) for item in value if item is not None)


@transform("split_string")
def split_string(value: Any, separator: str, _: Context) -> list[str]:
    """`"a, b,,c"` → `["a", "b", "c"]`: items are trimmed and empty ones dropped."""
    return [part.strip() for part in _string(value).split(separator) if part.strip()]


# --- numbers and money ---------------------------------------------------------------------


@transform("number")
def number(value: Any, _: NoArgs, __: Context) -> int | float:
    return _plain(_decimal(value))


def _whole(value: Any) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number (round it first)")
    return int(number)


@transform("integer")
def integer(value: Any, _: NoArgs, __: Context) -> int:
    return _whole(value)


@transform("round")
def round_(value: Any, digits: int, _: Context) -> int | float:
    rounded = _decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return int(rounded) if digits == 0 else float(rounded)


def _money(value: Any) -> tuple[int, int] | None:
    """(minor units, fraction digits) of a platform's money object, by the money readers the
    platforms register; None for a plain amount."""
    if not isinstance(value, dict):
        return None
    known = registry()
    for name in known.names(MONEY_READER):
        try:
            money = known.get(MONEY_READER, name)(value)
        except ValueError as exc:
            raise TransformError(str(exc)) from None
        if money is not None:
            return money
    return None


@transform("cents")
def cents(value: Any, args: MoneyArgs, _: Context) -> int:
    """A decimal amount → whole minor units (19.99 → 1999; JPY with fraction_digits 0: 1500 →
    1500), half up. A platform's money object gives its amount, already in minor units."""
    money = _money(value)
    if money is not None:
        return money[0]
    scaled = _decimal(value).scaleb(args.fraction_digits)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@transform("from_cents")
def from_cents(value: Any, args: MoneyArgs, _: Context) -> int | float:
    """Whole minor units → a decimal amount (1999 → 19.99); a platform's money object uses its
    own fraction digits."""
    money = _money(value)
    if money is not None:
        amount, digits = money
    else:
        amount, digits = _whole(value), args.fraction_digits
    return _plain(Decimal(amount).scaleb(-digits))


# --- dates and times -----------------------------------------------------------------------


@transform("datetime")
def to_datetime(value: Any, args: DatetimeArgs, _: Context) -> str:
    """Parse (ISO 8601 by default, `Z` included, or `format`), read a value without an offset as
    local time in `timezone`, convert to `to`, and write ISO 8601 (`Z` for UTC) or `output`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            if args.format is None:
                moment = datetime.fromisoformat(value.strip())
            else:
                moment = datetime.strptime(value.strip(), args.format)
        except ValueError:
            expected = f'the format "{args.format}"' if args.format else "an ISO 8601 date/time"
            raise TransformError(f"{value!r} is not {expected}") from None
    else:
        raise TransformError(f"expected a date/time string, got {_kind(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(args.timezone))
    moment = moment.astimezone(ZoneInfo(args.to))
    if args.output is not None:
        return moment.strftime(args.output)
    # Milliseconds when that is all there is, as commerce APIs usually write them.
    micro = moment.microsecond
    precision = "seconds" if not micro else "milliseconds" if micro % 1000 == 0 else "microseconds"
    text = moment.isoformat(timespec=precision)
    return text.removesuffix("+00:00") + "Z" if args.to == "UTC" else text


# --- picking and looking up ----------------------------------------------------------------


def _language(locale: str) -> str:
    return locale.replace("_", "-").split("-")[0].lower()


@transform("localized")
def localized(value: Any, args: LocalizedArgs, _: Context) -> str | None:
    """The text for `locale` from a localized string (`{"en": ..., "de": ...}`), else for each
    fallback in order, else any text there is; a locale also matches its language's variants
    (`en` finds `en-US`). A plain string is returned as it is."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise TransformError(f"expected a localized string (locale → text), got {_kind(value)}")
    texts = {k: v for k, v in value.items() if isinstance(v, str) and v}
    for wanted in [args.locale, *args.fallback]:
        if wanted in texts:
            return texts[wanted]
        for locale, text in texts.items():
            if _language(locale) == _language(wanted):
                return text
    return next(iter(texts.values()), None)


@transform("lookup")
def lookup(value: Any, args: LookupArgs, context: Context) -> Any:
    key = paths.text(value)
    found = context.lookups.get(args.table, key)
    if found is not None:
        return found
    if args.default is not None:
        return args.default
    if args.missing == "error":
        raise TransformError(
            f'no entry for "{key}" in lookup table "{args.table}"; {fill_hint(args.table)}'
        )
    return None if args.missing == "null" else value


@transform("map_values")
def map_values(value: Any, mapping: dict[str, Any], _: Context) -> Any:
    """Replace a value found among the keys (compared as text); others pass unchanged."""
    return mapping.get(paths.text(value), value)


# --- making values -------------------------------------------------------------------------


@transform("default")
def default(value: Any, fallback: Any, _: Context) -> Any:
    return fallback if value is None else value


@transform("template")
def template(_: Any, text: str, context: Context) -> str:
    return paths.render(text, context.record)


@cache
def _function(name: str) -> Callable[[Any, Any], Any]:
    module_name, _, attributes = name.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            found = getattr(found, attribute)
    except (ImportError, AttributeError) as exc:
        raise TransformError(f'cannot import python function "{name}": {exc}') from None
    if not callable(found):
        raise TransformError(f'python "{name}" is not a function')
    return found  # type: ignore[no-any-return]


@transform("python")
def python(value: Any, name: str, context: Context) -> Any:
    """Call `package.module:function(value, record)`; whatever it raises fails the record."""
    function = _function(name)
    try:
        return function(value, context.record)
    except Exception as exc:
        raise TransformError(f"{name} raised {type(exc).__name__}: {exc}") from exc
