"""Commerce Layer's rate limits as a `Throttle` (facts §5): never a 429, yet close to the ceiling.

The platform limits each request class — cacheable GETs (skus, prices, stock items, …), other
GETs, and writes — with two sliding windows at once: an *average* limit over every endpoint of
the class (1,000 per minute for cacheable GETs live) and a *burst* limit per endpoint (250 per
10 s). A request goes out only once both windows of its class have room, and it takes its place
in them before it is sent, under one lock, so any number of threads and tasks in flight never
overbook. The windows are the `limits` library's moving windows, lengthened by a margin (0.5 s,
rounded up to whole seconds: 61 s and 11 s) because the platform counts a request when it
arrives, which is later than when we sent it, and not by the same delay every time.

What the platform says is believed over what we assumed:
- `X-Ratelimit-Limit`/`-Interval` give the class's real average limit. With `profile: auto`
  (the default) the first answers pick the live or test numbers, whichever they match; numbers
  matching no profile are taken as given (the burst scaled alike). A 2xx answer without them
  means the API is not rate limited at all (a sandbox with limits off), until one carries
  them again.
- `X-Ratelimit-Remaining` below what our own window leaves means someone else on this IP used
  the budget: their requests are booked into our window, so we slow down for them.
- A 429 anyway (another process, a lower limit) holds the whole class back for `Retry-After`,
  or a burst window when the platform gives none; the client then retries the request.

Windows are keyed by the API host, so every instance of one organization shares them: in this
process by default, or in Redis for every process of a deployment (`storage_uri`, by default
`CARTWIRE_RATE_LIMIT_STORAGE`, which `cartwire worker` sets from a Redis broker). Checking both
windows and booking the request in both is one step (`cartwire.http.shared_windows`: a lock
here, a Lua script in Redis), so N workers together never send more than one would. What is
learnt from answers (the profile, a 429's pause) stays each process's own.

The numbers and which resources are cacheable are data: the connector file's `profiles` and
`cacheable` list, which an instance's throttle options may override (the emulator keeps its own
copy on purpose, as it imports no client code).
"""

import asyncio
import fnmatch
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import httpx
import yaml

from cartwire.http.client import retry_after
from cartwire.http.instance_rate_limit import storage_uri as configured_storage
from cartwire.http.shared_windows import Window, windows_for
from cartwire.http.waiting import Wait, pause, rate_text, report

CLASSES = ("cacheable", "uncacheable", "write")
MIN_PAUSE = 0.01


@cache
def _listed() -> Mapping[str, Any]:
    """The throttle options as the connector file gives them."""
    text = resources.files(__package__).joinpath("connector.yaml").read_text(encoding="utf-8")
    options: Mapping[str, Any] = yaml.safe_load(text)["throttle"]["options"]
    return options


def listed_cacheable() -> tuple[str, ...]:
    """The cacheable resources (fnmatch patterns) as the connector file lists them."""
    return tuple(_listed()["cacheable"])


def listed_profiles() -> dict[str, "Profile"]:
    """The live and test numbers as the connector file gives them."""
    return {name: _profile(raw) for name, raw in _listed()["profiles"].items()}


@dataclass(frozen=True)
class Limit:
    """One class's limits: `average` over the average window, `burst` per endpoint."""

    average: int
    burst: int


@dataclass(frozen=True)
class Profile:
    cacheable: Limit
    uncacheable: Limit
    write: Limit
    average_window: float = 60.0
    burst_window: float = 10.0

    def of(self, klass: str) -> Limit:
        limit: Limit = getattr(self, klass)
        return limit


class _Window(NamedTuple):
    """One moving window: its storage key, size and expiry, and what a wait for it is called."""

    key: str
    amount: int
    expiry: int
    limit: str  # "<connector title> write limit"
    rate: str  # "100/min"

    @property
    def window(self) -> Window:
        return Window(self.key, self.amount, self.expiry)

    def wait(self, seconds: float) -> Wait:
        return Wait(self.limit, self.rate, seconds)


def _profile(raw: Mapping[str, Any]) -> Profile:
    """A profile from options: `{cacheable: [1000, 250], uncacheable: …, write: …, …}`."""
    limits = {}
    for klass in CLASSES:
        average, burst = raw[klass]
        limits[klass] = Limit(int(average), int(burst))
    return Profile(
        **limits,
        average_window=float(raw.get("average_window", 60)),
        burst_window=float(raw.get("burst_window", 10)),
    )


class CommerceLayerLimits:
    """The `commercelayer_limits` throttle (module docstring)."""

    def __init__(
        self,
        profiles: Mapping[str, Profile] | None = None,
        profile: str = "auto",
        start: str = "test",
        cacheable: tuple[str, ...] | None = None,
        margin: float = 0.5,
        storage_uri: str | None = None,
        title: str = "",
    ) -> None:
        self.title = title  # the platform's name, for what a wait is called
        self.profiles = dict(profiles or listed_profiles())
        self.auto = profile == "auto"
        chosen = start if self.auto else profile
        if chosen not in self.profiles:
            known = ", ".join(sorted(self.profiles))
            raise ValueError(f"unknown rate limit profile {chosen!r} (known: {known})")
        self.current = self.profiles[chosen]
        self.cacheable = listed_cacheable() if cacheable is None else cacheable
        self.margin = margin
        self.unlimited = False
        self.windows = windows_for(storage_uri or configured_storage())
        self._paused: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], title: str = "") -> "CommerceLayerLimits":
        profiles = {name: _profile(raw) for name, raw in options.get("profiles", {}).items()}
        return cls(
            profiles or None,
            profile=str(options.get("profile", "auto")),
            start=str(options.get("start", "test")),
            cacheable=tuple(options["cacheable"]) if "cacheable" in options else None,
            margin=float(options.get("margin_seconds", 0.5)),
            storage_uri=options.get("storage_uri"),
            title=title,
        )

    # -- classes and windows -----------------------------------------------------------------

    def classify(self, request: httpx.Request) -> tuple[str, str, str]:
        """(host, class, endpoint) of a request; the endpoint is the resource type after /api."""
        parts = [p for p in request.url.path.split("/") if p]
        if "api" in parts and parts.index("api") + 1 < len(parts):
            resource = parts[parts.index("api") + 1]
        else:
            resource = parts[0] if parts else ""
        if request.method not in ("GET", "HEAD"):
            klass = "write"
        elif any(fnmatch.fnmatchcase(resource, pattern) for pattern in self.cacheable):
            klass = "cacheable"
        else:
            klass = "uncacheable"
        return request.url.netloc.decode(), klass, resource

    def _windows(self, host: str, klass: str, resource: str) -> tuple[_Window, _Window]:
        """The average and the burst window a request of this class fills."""
        profile, limit = self.current, self.current.of(klass)
        name = f"{self.title} {klass} limit".lstrip()
        return (
            _Window(
                f"cl/{host}/{klass}",
                limit.average,
                math.ceil(profile.average_window + self.margin),
                name,
                rate_text(limit.average, profile.average_window),
            ),
            _Window(
                f"cl/{host}/{klass}/{resource}",
                limit.burst,
                math.ceil(profile.burst_window + self.margin),
                f"{name} on {resource}",
                f"{rate_text(limit.burst, profile.burst_window)} burst",
            ),
        )

    def _reserve(self, request: httpx.Request) -> Wait | None:
        """None after booking the request in both windows, else how long to wait before trying
        again, and for which limit."""
        host, klass, resource = self.classify(request)
        with self._lock:
            now = time.time()
            if self.unlimited:
                return None
            windows = self._windows(host, klass, resource)
            paused = self._paused.get((host, klass), 0.0) - now
            if paused > 0:
                return windows[0].wait(paused)
            full = self.windows.reserve([window.window for window in windows])
            if full is None:
                return None
            return windows[full.fullest].wait(max(MIN_PAUSE, full.seconds))

    def acquire(self, request: httpx.Request) -> None:
        while (wait := self._reserve(request)) is not None:
            report(wait)
            pause(wait.seconds)

    async def aacquire(self, request: httpx.Request) -> None:
        while (wait := self._reserve(request)) is not None:
            report(wait)
            await asyncio.sleep(wait.seconds)

    # -- learning from answers ------------------------------------------------------------------

    def observe(self, response: httpx.Response) -> None:
        host, klass, resource = self.classify(response.request)
        if response.status_code == 429:
            told = retry_after(response)
            wait = told if told is not None else self.current.burst_window
            with self._lock:
                key = (host, klass)
                self._paused[key] = max(self._paused.get(key, 0.0), time.time() + wait)
            return
        headers = response.headers
        limit, interval = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-interval")
        if limit is None or interval is None:
            if self.auto and response.is_success:
                self.unlimited = True
            return
        try:
            average, window = int(limit), float(interval)
            remaining = int(headers.get("x-ratelimit-remaining", average))
        except ValueError:
            return
        with self._lock:
            self.unlimited = False
            self._learn(klass, average, window)
            self._book_others(host, klass, resource, remaining)

    def _learn(self, klass: str, average: int, window: float) -> None:
        """Adopt the limits the platform states for a class (module docstring)."""
        current = self.current
        if current.of(klass).average == average and current.average_window == window:
            return
        if self.auto:
            for profile in self.profiles.values():
                if profile.of(klass).average == average and profile.average_window == window:
                    self.current = profile
                    return
        elif current.of(klass).average <= average:
            return  # a configured profile only ever gets stricter
        old = current.of(klass)
        burst = max(1, round(old.burst * average / old.average))
        scale = window / current.average_window
        self.current = replace(
            current,
            average_window=window,
            burst_window=current.burst_window * scale,
            **{klass: Limit(average, burst)},
        )

    def _book_others(self, host: str, klass: str, resource: str, remaining: int) -> None:
        """Book into our average window what others used of it (module docstring)."""
        window = self._windows(host, klass, resource)[0].window
        missing = (window.amount - self.windows.book(window)) - remaining
        if missing > 0:
            self.windows.book(window, missing)


def commercelayer_limits(options: dict[str, Any], instance: Any, title: str) -> CommerceLayerLimits:
    """The throttle factory named by Commerce Layer's connector file."""
    return CommerceLayerLimits.from_options(options, title)
