"""Whether a value a record gives is the value the destination already stores.

APIs hand back what they were sent in their own spelling: a number sent as `10` comes back as
`"10"` or `10.0`, a flag as `"true"`, a time as `2024-01-01T12:00:00.000Z` for
`2024-01-01T12:00:00Z`. Compared strictly, each of these is a change, and an upsert would write
the same record again on every run; compared here, a re-run writes nothing.
"""

from datetime import datetime
from typing import Any


def same(current: Any, desired: Any) -> bool:
    """Whether writing `desired` over `current` changes nothing, as the platform would store it:
    `"10"` is 10, `1e1` is 10, `"true"` is True, and two spellings of one instant are equal."""
    if current == desired and type(current) is type(desired):
        return True
    if isinstance(current, bool) or isinstance(desired, bool):
        return _as_bool(current) is not None and _as_bool(current) == _as_bool(desired)
    if isinstance(current, int | float) or isinstance(desired, int | float):
        left, right = _as_number(current), _as_number(desired)
        return left is not None and left == right
    if isinstance(current, str) and isinstance(desired, str):
        left_time, right_time = _as_time(current), _as_time(desired)
        return left_time is not None and left_time == right_time
    return bool(current == desired)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_time(value: str) -> datetime | None:
    if len(value) < 10 or value[4:5] != "-":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
