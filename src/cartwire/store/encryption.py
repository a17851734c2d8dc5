"""The keyring one store uses: loaded once, reloaded when another process rotated it.

Every part of the store that writes or reads an encrypted column goes through this one object,
so a reload after a rotation (by this process or another) is seen by all of them, and every
writer encrypts under the shared keyring lock (see `locking.py` and `rotation.py`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cartwire.store import rotation
from cartwire.store.engine import Sessions
from cartwire.store.errors import DecryptError, database_errors
from cartwire.store.models import ENCRYPTED_COLUMNS
from cartwire.store.secrets import KeyFileMissing, Keyring


class Encryption:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._keyring: Keyring | None = None

    @property
    def keyring(self) -> Keyring:
        """The keyring in use (loaded, or created if nothing is encrypted yet)."""
        if self._keyring is None:
            try:
                self._keyring = Keyring.load(create=False)
            except KeyFileMissing:
                # Creating a fresh key while values exist would hide a lost key file.
                if self._has_encrypted_values():
                    raise
                self._keyring = Keyring.load(create=True)
        return self._keyring

    @contextmanager
    def writing(self) -> Iterator[tuple[Session, Keyring]]:
        """A write transaction plus the keyring to encrypt with, fresh from disk (for every
        writer of an encrypted column).

        The shared keyring lock is held until commit, so a rotation cannot drop the key we
        encrypt with between our encrypt and our commit.
        """
        keyring = self.keyring
        with keyring.lock(exclusive=False):
            if keyring.changed_on_disk():
                keyring = self._keyring = keyring.reload()
            with self._sessions.write() as session:
                yield session, keyring

    def decrypt(self, token: str, column: str, instance: str | None) -> str:
        """An encrypted column's value in clear, with the key file reloaded if another process
        rotated it since."""
        keyring = self.keyring
        try:
            return keyring.decrypt(token, column=column, instance=instance)
        except DecryptError:
            if not keyring.changed_on_disk():
                raise
        # Another process rotated the key file since we read it.
        self._keyring = keyring.reload()
        return self._keyring.decrypt(token, column=column, instance=instance)

    @database_errors
    def rotate(self, new_key: bytes | None = None) -> int:
        """Re-encrypt every stored secret under a new key; returns how many values it rewrote.

        With the key file: `new_key` (or a generated one) becomes the only key, see rotation.py
        for why an interruption loses nothing. With CARTWIRE_SECRET_KEY: the values are
        re-encrypted under `new_key` (or the variable's first key) and the user must then set
        CARTWIRE_SECRET_KEY to that key.
        """
        try:
            keyring = Keyring.load(create=False)
        except KeyFileMissing:
            if self._has_encrypted_values():
                raise
            keyring = Keyring.load(create=True)
        count, self._keyring = rotation.rotate(self._sessions, keyring, new_key)
        return count

    def _has_encrypted_values(self) -> bool:
        with self._sessions.read() as session:
            return any(
                session.scalar(select(exists().select_from(spec.table)))
                for spec in ENCRYPTED_COLUMNS
            )
