"""Webhooks that start flows: their shared secrets, signed URLs, and the receiver's runs.

`WebhookIntake` is what an HTTP server holds: it resumes the webhook runs a dead server left
unfinished, answers each delivery (`flows.webhooks.WebhookReceiver` decides), and on shutdown
gives the runs still going a grace period. With a broker configured the runs are queued for the
workers instead (`dispatch.trigger_launcher`), and there is nothing here to wait for.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta

from cartwire.flows.catalog import find
from cartwire.flows.webhooks import (
    MIN_SECRET_LENGTH,
    Reply,
    WebhookReceiver,
    generate_secret,
    resume_interrupted,
    signed_url,
    webhook_kinds,
)
from cartwire.services.dispatch import trigger_launcher
from cartwire.store import Store

# Commerce Layer gives up after 5 s: answer well before, even if the store is slow.
START_TIMEOUT = 4.0


class WebhookRefused(ValueError):
    """What a signed URL cannot be made for: the message says what to do first."""


class WebhookService:
    def __init__(self, store: Callable[[], Store]) -> None:
        """`store` opens the store when first called (after the flow file was found)."""
        self._open_store = store

    @property
    def _store(self) -> Store:
        return self._open_store()

    def set_secret(self, flow: str, secret: str) -> None:
        """The shared secret the flow's webhooks are signed with (stored encrypted)."""
        self._store.webhook_secrets.set(flow, secret)

    def signed_url(self, flow: str, base_url: str, ttl: timedelta) -> tuple[str, str]:
        """(the flow's name, a URL valid for `ttl`) for senders that cannot sign bodies."""
        flow_file = find(flow)
        if "signed_url" not in webhook_kinds(flow_file):
            raise WebhookRefused(f"flow {flow!r} has no `webhook: {{kind: signed_url}}` trigger")
        name = flow_file.flow.name
        if self._store.bindings.get(name) is None:
            raise WebhookRefused(f"flow {name!r} has no binding; `cartwire flows enable` it first")
        shared = self._store.webhook_secrets.get(name)
        if shared is None:
            raise WebhookRefused(
                f"no webhook secret for {name!r}: `cartwire webhooks secret {name} --generate`"
            )
        return name, signed_url(base_url, name, shared, ttl)


class WebhookIntake:
    """The receiving side, for one server's lifetime: `start`, `receive` …, `stop`."""

    def __init__(self, store: Store) -> None:
        self._launcher = trigger_launcher(store, START_TIMEOUT)
        self._receiver = WebhookReceiver(store, self._launcher)

    def start(self) -> list[int]:
        """Resume the webhook runs a dead server left unfinished; their ids."""
        return resume_interrupted(self._receiver.runs, self._launcher.resume)

    def receive(
        self, flow: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Reply:
        return self._receiver.receive(flow, body, headers, query)

    def stop(self, grace: float) -> bool:
        """Wait up to `grace` seconds for the runs started here; True if none is left."""
        return self._launcher.join(grace)


__all__ = [
    "MIN_SECRET_LENGTH",
    "Reply",
    "WebhookIntake",
    "WebhookRefused",
    "WebhookService",
    "generate_secret",
]
