"""Ransack predicates as Commerce Layer exposes them in `filter[q][<attrs>_<predicate>]`.

Semantics follow Ransack on PostgreSQL: `matches`/`cont`/`start`/`end` are ILIKE (case
insensitive), `eq` is case sensitive, comparisons never match NULL unless the predicate says
`_or_null`, blank filter values are ignored, and `_any`/`_all` variants take comma lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clock import parse_instant
from .schema import Kind

TRUE_VALUES = frozenset({"true", "1", "t", "T", "TRUE", "True", "on", "ON", "yes", "y"})
FALSE_VALUES = frozenset({"false", "0", "f", "F", "FALSE", "False", "off", "OFF", "no", "n"})

# (value, operand) → bool; `value` is the record's value (never None here unless noted).
Test = Callable[[Any, Any], bool]


def _like(pattern: str) -> re.Pattern[str]:
    """Compile an SQL LIKE pattern (`%`, `_`, backslash escapes) for ILIKE matching."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _contains(container: Any, part: Any) -> bool:
    """PostgreSQL `@>` on jsonb: objects by subset, arrays by element containment."""
    if isinstance(part, dict):
        return isinstance(container, dict) and all(
            key in container and _contains(container[key], sub) for key, sub in part.items()
        )
    if isinstance(part, list):
        return isinstance(container, list) and all(
            any(_contains(item, sub) for item in container) for sub in part
        )
    return bool(container == part)


def _lt(v: Any, x: Any) -> bool:
    return bool(v < x)


def _lteq(v: Any, x: Any) -> bool:
    return bool(v <= x)


def _gt(v: Any, x: Any) -> bool:
    return bool(v > x)


def _gteq(v: Any, x: Any) -> bool:
    return bool(v >= x)


def _lower(x: Any) -> Any:
    return x.lower()


def _same(x: Any) -> Any:
    return x


# Scalar tests that Ransack also offers as `_any` / `_all` compounds, with the preparation
# their operand gets once per request (not once per record).
_COMPOUNDABLE: dict[str, tuple[Test, Callable[[Any], Any]]] = {
    "eq": (lambda v, x: bool(v == x), _same),
    "not_eq": (lambda v, x: bool(v != x), _same),
    "lt": (_lt, _same),
    "lteq": (_lteq, _same),
    "gt": (_gt, _same),
    "gteq": (_gteq, _same),
    "matches": (lambda v, x: x.fullmatch(_text(v)) is not None, _like),
    "does_not_match": (lambda v, x: x.fullmatch(_text(v)) is None, _like),
    "start": (lambda v, x: _text(v).lower().startswith(x), _lower),
    "not_start": (lambda v, x: not _text(v).lower().startswith(x), _lower),
    "end": (lambda v, x: _text(v).lower().endswith(x), _lower),
    "not_end": (lambda v, x: not _text(v).lower().endswith(x), _lower),
    "cont": (lambda v, x: x in _text(v).lower(), _lower),
    "not_cont": (lambda v, x: x not in _text(v).lower(), _lower),
    "i_cont": (lambda v, x: x in _text(v).lower(), _lower),
    "i_not_cont": (lambda v, x: x not in _text(v).lower(), _lower),
}


@dataclass(frozen=True)
class Predicate:
    name: str
    # "one": a single operand; "many": a comma list; "bool": true/false; "json": an object.
    arity: str
    # (record value or None, prepared operand(s)) → bool
    test: Callable[[Any, Any], bool]
    prepare: Callable[[Any], Any] = _same
    # Operands of LIKE-style tests are text whatever the attribute's type.
    text_operand: bool = False


def _scalar(name: str, test: Test, prepare: Callable[[Any], Any]) -> Predicate:
    return Predicate(
        name, "one", lambda v, x: v is not None and test(v, x), prepare, prepare is not _same
    )


def _compound(
    name: str, test: Test, prepare: Callable[[Any], Any], quantifier: Callable[[Any], bool]
) -> Predicate:
    return Predicate(
        name,
        "many",
        lambda v, xs: v is not None and quantifier(test(v, x) for x in xs),
        prepare,
        prepare is not _same,
    )


def _build() -> dict[str, Predicate]:
    found: dict[str, Predicate] = {}
    for name, (test, prepare) in _COMPOUNDABLE.items():
        found[name] = _scalar(name, test, prepare)
        found[f"{name}_any"] = _compound(f"{name}_any", test, prepare, any)
        found[f"{name}_all"] = _compound(f"{name}_all", test, prepare, all)
    extra = [
        Predicate("eq_or_null", "one", lambda v, x: v is None or v == x),
        Predicate("not_eq_or_null", "one", lambda v, x: v is None or v != x),
        Predicate("in", "many", lambda v, xs: v is not None and v in xs),
        Predicate("not_in", "many", lambda v, xs: v is not None and v not in xs),
        Predicate("in_or_null", "many", lambda v, xs: v is None or v in xs),
        Predicate("not_in_or_null", "many", lambda v, xs: v is None or v not in xs),
        Predicate("null", "bool", lambda v, flag: (v is None) == flag),
        Predicate("not_null", "bool", lambda v, flag: (v is not None) == flag),
        Predicate("present", "bool", lambda v, flag: _present(v) == flag),
        Predicate("blank", "bool", lambda v, flag: (not _present(v)) == flag),
        # `_true=false` is `!= true`, which SQL never satisfies with NULL.
        Predicate("true", "bool", lambda v, flag: v is not None and (v is True) == flag),
        Predicate("false", "bool", lambda v, flag: v is not None and (v is False) == flag),
        Predicate("jcont", "json", lambda v, part: v is not None and _contains(v, part)),
    ]
    found.update({p.name: p for p in extra})
    return found


def _present(value: Any) -> bool:
    return value is not None and _text(value).strip() != ""


PREDICATES = _build()
# Longest first, so `not_eq_all` wins over `eq_all` and `eq`.
_SUFFIXES = sorted(PREDICATES, key=len, reverse=True)


def split_predicate(key: str) -> tuple[str, Predicate] | None:
    """`name_or_code_cont` → (`name_or_code`, cont)."""
    for suffix in _SUFFIXES:
        if key.endswith("_" + suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix) - 1], PREDICATES[suffix]
    return None


def ruby_to_i(text: str) -> int:
    """Ruby's String#to_i: leading integer, else 0."""
    match = re.match(r"\s*([+-]?\d+)", text.replace("_", ""))
    return int(match.group(1)) if match else 0


def ruby_to_f(text: str) -> float:
    match = re.match(r"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+))", text)
    return float(match.group(1)) if match else 0.0


def cast(kind: Kind, text: str) -> Any:
    """Cast one operand like Ransack does for the attribute's type; None means ignore."""
    if kind is Kind.INTEGER:
        return ruby_to_i(text)
    if kind is Kind.FLOAT:
        return ruby_to_f(text)
    if kind is Kind.BOOLEAN:
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        return None
    if kind is Kind.DATETIME:
        return parse_instant(text)
    return text


def cast_operand(predicate: Predicate, kind: Kind, raw: str | list[str]) -> Any:
    """The operand(s) of a condition, or None when Ransack would drop the condition."""
    if predicate.arity == "bool":
        if not isinstance(raw, str) or raw not in TRUE_VALUES | FALSE_VALUES:
            return None
        return raw in TRUE_VALUES
    if predicate.arity == "json":
        try:
            part = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
        return part if isinstance(part, dict) else None
    operand_kind = Kind.STRING if predicate.text_operand else kind
    if predicate.arity == "many":
        items = raw if isinstance(raw, list) else raw.split(",")
        values = [cast(operand_kind, item) for item in items if item != ""]
        values = [predicate.prepare(v) for v in values if v is not None]
        return values or None
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    if raw == "":
        return None
    value = cast(operand_kind, raw)
    return None if value is None else predicate.prepare(value)
