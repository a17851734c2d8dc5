"""Records the store keeps for runs (failed records, webhook payloads): JSON, encrypted at rest
like instance secrets, and never with a field named like a secret.

The flow decides which fields of a record are worth keeping (`cartwire.flows.reads`); this is
the last word whatever it decides: a `password`, `client_secret` or `apiToken` is dropped at any
depth before a record is sealed, and what is sealed is a Fernet token under the store's keyring,
so neither a copy of the database file nor its free pages show a record's values.
"""

import json
import re
from typing import Any

from cartwire.store.secrets import Keyring

# Normalised (lowercase, letters and digits only) parts of names that hold secrets.
SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "credential",
)


def secret_named(name: str) -> bool:
    """A field whose name says it holds a secret (`password`, `client_secret`, `apiToken`)."""
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    return any(word in plain for word in SECRET_WORDS)


def without_secrets(value: Any) -> Any:
    """`value` with every secret-named field left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not secret_named(str(k))}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def seal(keyring: Keyring, value: Any) -> str:
    """`value` without secrets, as JSON, encrypted under the keyring's newest key."""
    text = json.dumps(without_secrets(value), ensure_ascii=False, separators=(",", ":"))
    return keyring.encrypt(text)
