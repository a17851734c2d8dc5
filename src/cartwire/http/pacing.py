"""Platform throttles that pace requests from what the platform says about its limits."""

from typing import Any

from cartwire.connectors.schema import Strategy
from cartwire.http.client import Throttle
from cartwire.http.shared_limits import ThrottleFactory, shared_throttle
from cartwire.platforms.commercelayer.limits import commercelayer_limits

THROTTLES: dict[str, ThrottleFactory] = {
    "commercelayer_limits": commercelayer_limits,
}


def throttle_for(spec: Strategy, instance: Any, title: str) -> Throttle:
    return shared_throttle(spec, instance, THROTTLES, title)
