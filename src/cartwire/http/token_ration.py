"""The platform's ration of token requests, kept by every process of a deployment together.

Commerce Layer refuses a 31st token request within a minute from one IP. A deployment asks
rarely (a token is cached and shared, and one process fetches it under the store's lock), yet
credential tests, restarts and instances of one organization all ask the same auth host; so
each token request first books its place in a moving window keyed by that host — in this
process, or in Redis for every worker (`CARTWIRE_RATE_LIMIT_STORAGE`), the same windows the
platform's API limits use — and waits for room instead of being refused.
"""

import math
from collections.abc import Callable

import httpx

from cartwire.http.instance_rate_limit import storage_uri
from cartwire.http.shared_windows import Window, windows_for
from cartwire.http.waiting import Wait, pause, rate_text, report

MARGIN_SECONDS = 0.5  # the platform counts a request when it arrives, a little after we send it


def token_ration(
    url: str, requests: int, per_seconds: float, title: str, storage: str | None = None
) -> Callable[[], None]:
    """A gate to pass before each token request to `url`: it returns once the request is booked
    within `requests` per `per_seconds`, reporting and sleeping through any wait first."""
    window = Window(
        f"token/{httpx.URL(url).netloc.decode()}",
        requests,
        math.ceil(per_seconds + MARGIN_SECONDS),
    )
    windows = windows_for(storage or storage_uri())
    limit = f"{title} token request limit".lstrip()

    def ration() -> None:
        while (full := windows.reserve([window])) is not None:
            wait = Wait(limit, rate_text(requests, per_seconds), full.seconds)
            report(wait)
            pause(wait.seconds)

    return ration
