"""Record timestamps: a strictly increasing millisecond clock and its ISO 8601 codec.

Commerce Layer renders datetimes in UTC with millisecond precision and a `Z`. Every write takes
its own tick, at least one millisecond after the previous one, so no two writes in a process
render the same `created_at`/`updated_at`: a client walking `updated_at` keysets gets
deterministic pages. The cost is that a burst of N writes runs the clock up to N ms ahead of
the wall clock until real time catches up.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Accepts what Rails' Time.zone.parse accepts in practice for filters: a date, optionally a
# time with `T` or a space, optional fractional seconds, optional `Z` or numeric offset.
_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)


class Clock:
    """Hands out strictly increasing millisecond timestamps."""

    def __init__(self) -> None:
        self._last = 0

    def tick(self) -> int:
        now = time.time_ns() // 1_000_000
        self._last = now if now > self._last else self._last + 1
        return self._last

    def ticks(self, count: int) -> range:
        """Reserve `count` consecutive ticks at once, for bulk loads."""
        first = self.tick()
        self._last = first + count - 1
        return range(first, first + count)


def format_ms(ms: int) -> str:
    """Render like Rails with ActiveSupport's JSON time precision of 3: `...T12:00:00.000Z`."""
    seconds, millis = divmod(ms, 1000)
    return f"{_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=65536)
def _second(seconds: int) -> str:
    """The shared `YYYY-MM-DDTHH:MM:SS` prefix; records written together share seconds."""
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def parse_instant(text: str) -> float | None:
    """Milliseconds since the epoch (fraction kept), or None when the text is not a time.

    Times without an offset are UTC, the zone Commerce Layer's API runs in.
    """
    match = _INSTANT.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        moment = moment - offset if zone[0] == "+" else moment + offset
    millis = float((moment - _EPOCH) // timedelta(milliseconds=1))
    if fraction:
        millis += int(fraction.ljust(9, "0")) / 1_000_000
    return millis
