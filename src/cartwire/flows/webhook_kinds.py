"""What a webhook kind is: how a delivery proves it comes from the sender, and which records its
body holds. A flow names its kinds (`triggers: [{webhook: {kind: …}}]`); they are registered by
name (`cartwire.platforms.registry`): the engine's `signed_url`, for any sender, and the kinds
platforms add for senders that sign bodies their own way."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

SIGNED_URL = "signed_url"  # the kind whose proof is in the URL, never in the body


class BadPayload(ValueError):
    """A body that is not what its kind promises (answered 400)."""


class WebhookKind(Protocol):
    def verify(
        self,
        flow: str,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secret: str,
        now: datetime,
    ) -> bool:
        """Whether the delivery proves it knows the flow binding's shared secret; every
        comparison in constant time (`hmac.compare_digest`)."""

    def records(self, body: bytes) -> list[dict[str, Any]]:
        """The records of a verified body, as a read would give them; `BadPayload` if none."""

    def topic(self, headers: Mapping[str, str]) -> str | None:
        """What the sender says happened (logged with the run), when it says."""


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from None
