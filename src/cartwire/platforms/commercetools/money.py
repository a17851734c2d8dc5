"""commercetools money objects (`{"centAmount", "currencyCode", "fractionDigits"}`), read by the
`cents` and `from_cents` transforms as amounts already in minor units."""

from typing import Any


def read_money(value: Any) -> tuple[int, int] | None:
    """(centAmount, fractionDigits) of a money object, None for any other value."""
    if not isinstance(value, dict) or "centAmount" not in value:
        return None
    cents, digits = value["centAmount"], value.get("fractionDigits", 2)
    if not isinstance(cents, int) or isinstance(cents, bool) or not isinstance(digits, int):
        raise ValueError(f"bad money object {value!r}: centAmount and fractionDigits are ints")
    return cents, digits
