"""The shared secret of each flow binding's webhooks, encrypted like instance secrets.

Its own part because it belongs to a flow binding, not to an instance: it goes when the binding
goes, and the webhook receiver reads it on every request without touching any instance.
"""

from datetime import UTC, datetime

from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.errors import InvalidRecord, StoreError, database_errors
from cartwire.store.models import FlowBindingRow, WebhookSecretRow
from cartwire.store.upsert import upsert

WEBHOOK_SECRET_COLUMN = "webhook_secrets.secret_enc"  # noqa: S105 (a column name)


class WebhookSecrets:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    @database_errors
    def set(self, flow: str, secret: str) -> None:
        """Store (or replace) the shared secret of a flow binding's webhooks, encrypted.

        The binding must exist: the secret belongs to it and goes when it is removed.
        """
        if not isinstance(secret, str) or not secret:
            raise InvalidRecord("a webhook secret must be a non-empty string")
        with self._encryption.writing() as (session, keyring):
            if session.get(FlowBindingRow, flow) is None:
                raise StoreError(
                    f"flow {flow!r} has no binding; bind it first with `cartwire flows enable "
                    f"{flow} --source NAME --destination NAME`"
                )
            values = {
                "flow": flow,
                "secret_enc": keyring.encrypt(secret),
                "updated_at": datetime.now(UTC),
            }
            upsert(session, WebhookSecretRow, "flow", values)

    @database_errors
    def get(self, flow: str) -> str | None:
        """The flow binding's webhook secret in clear, or None when none was set."""
        with self._sessions.read() as session:
            row = session.get(WebhookSecretRow, flow)
            token = None if row is None else row.secret_enc
        return (
            None if token is None else self._encryption.decrypt(token, WEBHOOK_SECRET_COLUMN, None)
        )
