"""Commerce Layer's rate limits (facts §5): sliding windows kept as one deque per key.

Per client IP and class — cacheable GETs (a fixed list of resource types), other GETs, and
writes — an *average* limit counts every request of the class over `average_window` seconds,
and a *burst* limit counts requests to one endpoint (resource type and class) over
`burst_window` seconds. `/oauth/token` has its own per-IP limit per minute. Rejected requests
are not counted, so a client is let through again as soon as the window slides.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any

CACHEABLE_TYPES = frozenset(
    {
        "bundles",
        "imports",
        "markets",
        "prices",
        "price_lists",
        "promotions",
        "skus",
        "sku_options",
        "stock_items",
        "stock_locations",
    }
)
OAUTH_WINDOW = 60.0


@dataclass(frozen=True)
class Limits:
    enabled: bool
    cacheable_average: int
    cacheable_burst: int
    average: int
    burst: int
    average_window: float = 60.0
    burst_window: float = 10.0
    oauth: int = 30

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES = {
    "test": Limits(True, 500, 125, 100, 25),
    "live": Limits(True, 1000, 250, 200, 50),
    "off": Limits(False, 500, 125, 100, 25),
}
_NUMBERS = (
    "cacheable_average",
    "cacheable_burst",
    "average",
    "burst",
    "average_window",
    "burst_window",
    "oauth",
)


def configure(current: Limits, change: Any) -> Limits:
    """Apply `{"rate_limits": …}` from the admin API: a profile name or numbers (which enable)."""
    if isinstance(change, str):
        if change not in PROFILES:
            raise ValueError(f"unknown rate limit profile {change!r}")
        return PROFILES[change]
    if not isinstance(change, dict):
        raise ValueError("rate_limits must be a profile name or an object")
    updates: dict[str, Any] = {"enabled": True}
    for key, value in change.items():
        if key == "enabled" and isinstance(value, bool):
            updates[key] = value
        elif key in _NUMBERS and isinstance(value, int | float) and not isinstance(value, bool):
            if value <= 0:
                raise ValueError(f"rate_limits.{key} must be positive")
            updates[key] = value if key.endswith("window") else int(value)
        else:
            raise ValueError(f"unknown or invalid rate_limits.{key}")
    return replace(current, **updates)


def profile_name(limits: Limits) -> str:
    for name, profile in PROFILES.items():
        if profile == limits:
            return name
    return "custom"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int = 0
    interval: int = 0
    remaining: int = 0
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Interval": str(self.interval),
            "X-Ratelimit-Remaining": str(self.remaining),
        }


_UNLIMITED = Decision(True)


class RateLimiter:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, ...], deque[float]] = {}

    def reset(self, limits: Limits) -> None:
        self.limits = limits
        self._windows.clear()

    def _window(self, key: tuple[str, ...], span: float, now: float) -> deque[float]:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
        horizon = now - span
        while window and window[0] <= horizon:
            window.popleft()
        return window

    def check_api(self, client: str, resource_type: str, method: str) -> Decision:
        limits = self.limits
        if not limits.enabled:
            return _UNLIMITED
        reading = method in ("GET", "HEAD")
        if reading and resource_type in CACHEABLE_TYPES:
            klass, average, burst = "cacheable", limits.cacheable_average, limits.cacheable_burst
        else:
            klass, average, burst = ("read" if reading else "write"), limits.average, limits.burst
        now = time.monotonic()
        average_window = self._window((client, klass), limits.average_window, now)
        burst_window = self._window((client, klass, resource_type), limits.burst_window, now)
        interval = math.ceil(limits.average_window)
        waits = []
        if len(average_window) >= average:
            waits.append(average_window[0] + limits.average_window - now)
        if len(burst_window) >= burst:
            waits.append(burst_window[0] + limits.burst_window - now)
        if waits:
            return Decision(False, average, interval, 0, max(1, math.ceil(max(waits))))
        average_window.append(now)
        burst_window.append(now)
        return Decision(True, average, interval, average - len(average_window))

    def check_oauth(self, client: str) -> Decision:
        limits = self.limits
        if not limits.enabled:
            return _UNLIMITED
        now = time.monotonic()
        window = self._window((client, "oauth"), OAUTH_WINDOW, now)
        if len(window) >= limits.oauth:
            wait = window[0] + OAUTH_WINDOW - now
            return Decision(False, limits.oauth, int(OAUTH_WINDOW), 0, max(1, math.ceil(wait)))
        window.append(now)
        return Decision(True, limits.oauth, int(OAUTH_WINDOW), limits.oauth - len(window))
