"""Webhook triggers: who may start a flow over HTTP, and with which records.

The flow file names the kinds it accepts (`triggers: [{webhook: {kind: …}}]`), each checked
against the flow binding's shared secret (stored encrypted, `Store.webhook_secret`). Kinds are
registered by name (`cartwire.flows.webhook_kinds`); platforms add those of senders that sign
bodies their own way. The engine's own:

- `signed_url`: for any sender, which cannot sign bodies. The URL itself carries
  `expires` (Unix seconds) and `signature`, the hex HMAC-SHA256 of `FLOW:EXPIRES` with the
  secret (`cartwire webhooks url`). It proves the URL came from us and is not past its expiry,
  nothing about the body: treat such a URL as a secret. The body is a JSON object (one record)
  or an array of objects.

Every comparison is `hmac.compare_digest` (constant time), so a caller cannot learn a valid
signature byte by byte from response times. Nothing is started unless the signature holds.

`WebhookReceiver.receive()` is the whole decision, independent of the HTTP framework, and
answers `(status, document)`: 404 unknown flow / no webhook trigger / no or disabled binding,
401 bad, missing or expired signature, 400 a body that is not what the kind promises, 409 the
binding has a run going (with its id; senders retry later), 202 `{"run_id"}` once the run has
started; it then goes on in a background thread, so the sender gets its answer at once.
"""

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from cartwire import logs
from cartwire.flows.background import Launched, Launcher, Records
from cartwire.flows.catalog import FlowFile, FlowNotFound, find_by_name
from cartwire.flows.problems import FlowError, FlowInvalid
from cartwire.flows.webhook_kinds import SIGNED_URL, BadPayload, WebhookKind, json_body
from cartwire.platforms.registry import WEBHOOK, registry
from cartwire.store import Store
from cartwire.store.errors import StoreError
from cartwire.store.runs import Run, RunBusy, Runs

log = logging.getLogger(__name__)

# Flow names as the flow schema allows them; anything else never reaches the catalogue, which
# would read a path (`find("../x.yaml")`) as a file.
FLOW_NAME = re.compile(r"[a-z0-9-]{1,200}")
MIN_SECRET_LENGTH = 16


# -- signatures ------------------------------------------------------------------------------


def url_signature(flow: str, expires: int, secret: str) -> str:
    """The `signature` of a signed webhook URL: hex HMAC-SHA256 of `FLOW:EXPIRES` (the colon
    keeps the pair unambiguous: flow names have no colon)."""
    return hmac.new(secret.encode(), f"{flow}:{expires}".encode(), hashlib.sha256).hexdigest()


def valid_url(
    flow: str, expires: str | None, signature: str | None, secret: str, now: datetime
) -> bool:
    """Signature right and not expired. Both are checked whatever the outcome of the first, so
    an expired URL and a forged one take the same path."""
    if not expires or not signature or not expires.isdigit() or len(expires) > 12:
        return False
    expected = url_signature(flow, int(expires), secret).encode()
    signed = hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))
    return signed and int(expires) >= int(now.timestamp())


def signed_url(
    base_url: str, flow: str, secret: str, ttl: timedelta, now: datetime | None = None
) -> str:
    """`BASE/webhooks/FLOW?expires=…&signature=…`, valid until now + ttl."""
    expires = int((now or datetime.now(UTC)).timestamp() + ttl.total_seconds())
    query = urlencode({"expires": expires, "signature": url_signature(flow, expires, secret)})
    return f"{base_url.rstrip('/')}/webhooks/{quote(flow)}?{query}"


def generate_secret() -> str:
    """32 random bytes, URL-safe base64: for signed URLs or any sender that takes a secret."""
    return secrets.token_urlsafe(32)


class SignedUrl:
    """The `signed_url` kind (module docstring)."""

    def verify(
        self,
        flow: str,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secret: str,
        now: datetime,
    ) -> bool:
        return valid_url(flow, query.get("expires"), query.get("signature"), secret, now)

    def records(self, body: bytes) -> Records:
        """A JSON object (one record) or an array of objects."""
        document = json_body(body)
        items = document if isinstance(document, list) else [document]
        if not items or not all(isinstance(item, dict) for item in items):
            raise BadPayload("expected a JSON object or a non-empty array of objects")
        return items

    def topic(self, headers: Mapping[str, str]) -> str | None:
        return None


SIGNED_URL_KIND = SignedUrl()


# -- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    document: dict[str, Any]


def _error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"error": message, **extra})


def webhook_kinds(flow_file: FlowFile) -> list[str]:
    return [t.webhook.kind for t in flow_file.flow.triggers if t.webhook is not None]


def resume_interrupted(runs: Runs, resume: Callable[[Run], Launched]) -> list[int]:
    """Resume the webhook runs a dead process left unfinished, with the records stored with
    them: their senders were answered 202 and will not deliver again. The webhook server calls
    this as it starts, and is up once each is `running` again; the ids of the runs resumed."""
    runs.mark_interrupted_if_dead()
    resumed = []
    for run in runs.interrupted_with_inputs():
        try:
            launched = resume(run)
        except (StoreError, FlowInvalid, FlowError) as exc:  # refused before it was claimed
            log.error("could not resume webhook run %d of flow %s: %s", run.id, run.flow, exc)
            continue
        log.info("resuming webhook run %d of flow %s", run.id, run.flow)
        resumed.append(launched.run_id)
    return resumed


class WebhookReceiver:
    """Decides what one webhook delivery does; see the module docstring for the answers."""

    def __init__(
        self, store: Store, launch: Launcher, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = store
        self.runs = store.runs
        self.launch = launch
        self.clock = clock or (lambda: datetime.now(UTC))

    def receive(
        self, flow: str, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Reply:
        if not FLOW_NAME.fullmatch(flow):
            return _error(404, "no such flow")
        try:
            flow_file = find_by_name(flow)
        except FlowNotFound:
            return _error(404, f"no flow named {flow!r}")
        except FlowInvalid as exc:
            log.error("webhook for flow %s: the flow file is invalid: %s", flow, exc)
            return _error(
                500, f"the flow file of {flow!r} is invalid; see `cartwire flows validate`"
            )
        kinds = webhook_kinds(flow_file)
        if not kinds:
            return _error(404, f"flow {flow!r} has no webhook trigger")
        binding = self.store.bindings.get(flow)
        if binding is None or not binding.enabled:
            return _error(404, f"flow {flow!r} is not enabled")
        secret = self.store.webhook_secrets.get(flow)
        if secret is None:
            log.error("webhook for flow %s refused: no secret (`cartwire webhooks secret`)", flow)
            return _error(401, "no webhook secret is set for this flow")
        logs.register_secret(secret)
        kind = self._verified_kind(flow, kinds, body, headers, query, secret)
        if kind is None:
            log.warning("webhook for flow %s refused: invalid or missing signature", flow)
            return _error(401, "invalid or missing signature")
        try:
            records = kind.records(body)
        except BadPayload as exc:
            return _error(400, str(exc))
        return self._start(flow_file, binding_flow=flow, records=records, topic=kind.topic(headers))

    def _verified_kind(
        self,
        flow: str,
        kinds: list[str],
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secret: str,
    ) -> WebhookKind | None:
        """The kind whose check this delivery passes: a query that carries a signature is a
        signed URL, judged as one alone; any other delivery, by the flow's other kinds."""
        signed = "signature" in query
        now = self.clock()
        for name in kinds:
            if (name == SIGNED_URL) != signed:
                continue
            kind = registry().get(WEBHOOK, name)
            if kind.verify(flow, body, headers, query, secret, now):
                return kind
        return None

    def _start(
        self, flow_file: FlowFile, *, binding_flow: str, records: Records, topic: str | None
    ) -> Reply:
        binding = self.store.bindings.get(binding_flow)
        if binding is None or not binding.enabled:  # disabled in the meantime
            return _error(404, f"flow {binding_flow!r} is not enabled")
        try:
            launched = self.launch(flow_file, binding, trigger="webhook", records=records)
        except RunBusy as exc:
            return _error(409, str(exc), run_id=exc.run_id)
        except FutureTimeout:
            # The store was too slow to record the run in time; it may still start.
            log.error("webhook run of flow %s did not start in time", binding_flow)
            return Reply(202, {"run_id": None, "message": "accepted; the run is still starting"})
        except StoreError as exc:
            return _error(503, f"the store is unavailable: {exc}")
        if topic:
            try:
                self.store.run_logs.add(launched.run_id, "info", f"webhook topic {topic}")
            except StoreError:
                log.warning("could not log the topic of run %d", launched.run_id)
        return Reply(202, {"run_id": launched.run_id})
