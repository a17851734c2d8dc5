"""The SHA-256 under which API keys and session tokens are stored and looked up.

A fast hash is the right one here, unlike for passwords: these values are 32 random bytes, so
there is nothing to guess and no slow hash would make them harder to find; it only has to be
one-way, so that a copy of the database holds no usable key. Looking a key up by its digest
also means no stored secret is ever compared with a given one character by character.
"""

import hashlib


def digest(secret: str) -> str:
    """Hex SHA-256 of the secret's UTF-8 bytes (64 characters)."""
    return hashlib.sha256(secret.encode()).hexdigest()
