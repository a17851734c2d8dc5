"""Commerce Layer's webhooks, the `commercelayer` webhook kind.

The body carries `X-CommerceLayer-Signature`, the base64 HMAC-SHA256 of the raw body with the
webhook's shared secret (Commerce Layer generates that secret; copy it into cartwire with
`cartwire webhooks secret FLOW --stdin`), and `X-CommerceLayer-Topic` says what happened
(`orders.place`). The body is a JSON:API document of one resource, flattened exactly as the
Commerce Layer reader flattens a page (`cartwire.resources.jsonapi`), so one flow maps both
polled and pushed records. Commerce Layer retries a refused delivery up to 10 times.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cartwire.flows.webhook_kinds import BadPayload, json_body
from cartwire.resources.jsonapi import flatten_document

SIGNATURE_HEADER = "x-commercelayer-signature"
TOPIC_HEADER = "x-commercelayer-topic"


def signature(body: bytes, secret: str) -> str:
    """What Commerce Layer sends in `X-CommerceLayer-Signature` for this body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def valid_signature(body: bytes, signed: str | None, secret: str) -> bool:
    if not signed:
        return False
    expected = signature(body, secret).encode()
    return hmac.compare_digest(expected, signed.strip().encode("utf-8", "replace"))


class CommerceLayerWebhook:
    def verify(
        self,
        flow: str,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secret: str,
        now: datetime,
    ) -> bool:
        return valid_signature(body, headers.get(SIGNATURE_HEADER), secret)

    def records(self, body: bytes) -> list[dict[str, Any]]:
        """The webhook's resource as the one record the Commerce Layer reader would give for it
        (its `include_resources` resolved in place, like a read with `include=`)."""
        document = json_body(body)
        if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
            raise BadPayload("expected a JSON:API document with one resource in `data`")
        try:
            return flatten_document(document)
        except ValueError as exc:
            raise BadPayload(str(exc)) from None

    def topic(self, headers: Mapping[str, str]) -> str | None:
        return headers.get(TOPIC_HEADER)


WEBHOOK = CommerceLayerWebhook()
