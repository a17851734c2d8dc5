"""Encryption of secret fields at rest, and the keyring that holds the Fernet keys.

Keys come from CARTWIRE_SECRET_KEY (comma-separated, newest first) or from `secret.key` in the
data directory (one key a line, newest first; created owner-only on first use). Several keys are
allowed so that a rotation can be interrupted at any moment: the new key is added before any
value is re-encrypted and the old ones are dropped only after the re-encryption has committed,
so the file on disk always holds a key for every stored value. See `rotation.py`.
"""

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cartwire.home import data_dir, write_private
from cartwire.store.errors import DecryptError, StoreError
from cartwire.store.locking import file_lock

__all__ = [
    "KEY_FILE_NAME",
    "SECRET_KEY_ENV",
    "DecryptError",
    "KeyFileMissing",
    "Keyring",
    "generate_key",
    "key_file_path",
]

SECRET_KEY_ENV = "CARTWIRE_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)
KEY_FILE_NAME = "secret.key"
_HEADER = (
    "# cartwire secret keys (Fernet), newest first. Keep this file private and backed up:\n"
    "# without it the credentials stored in the cartwire database cannot be decrypted.\n"
)

_Signature = tuple[int, int, int]


class KeyFileMissing(StoreError):
    """There is no key file and creating one was not allowed."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the secret key file {path} is missing but the database holds encrypted secrets; "
            f"restore the file from a backup or set {SECRET_KEY_ENV} to the key"
        )
        self.path = path


def generate_key() -> bytes:
    return Fernet.generate_key()


def key_file_path(directory: Path | None = None) -> Path:
    return (directory if directory is not None else data_dir()) / KEY_FILE_NAME


def _lock_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".lock")


def _fernet(key: bytes, where: str) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        # The exception text would not contain the key, but say nothing about it anyway.
        raise StoreError(
            f"{where} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def _signature(path: Path) -> _Signature | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _fsync(path: Path) -> None:
    """Make the key file and its directory entry durable before any value is encrypted with it."""
    targets = [(path, os.O_RDONLY)]
    if hasattr(os, "O_DIRECTORY"):  # directories cannot be opened (or synced) on Windows
        targets.append((path.parent, os.O_RDONLY | os.O_DIRECTORY))
    for target, flags in targets:
        fd = os.open(target, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Keyring:
    """An ordered set of Fernet keys: the first encrypts, any of them decrypts.

    Immutable: `add_key` and `drop_old` return a new keyring (and rewrite the key file when the
    keys came from one).
    """

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        path: Path | None = None,
        signature: _Signature | None = None,
    ) -> None:
        if not keys:
            raise StoreError("a keyring needs at least one key")
        self.path = path
        self.signature = signature
        self._keys = tuple(keys)
        source = self.source
        self._multi = MultiFernet(
            [_fernet(key, f"key {number} of {source}") for number, key in enumerate(keys, 1)]
        )

    def __repr__(self) -> str:
        return f"Keyring(<{len(self._keys)} keys from {self.source}>)"

    @property
    def keys(self) -> tuple[bytes, ...]:
        return self._keys

    @property
    def from_env(self) -> bool:
        return self.path is None

    @property
    def source(self) -> str:
        return SECRET_KEY_ENV if self.path is None else str(self.path)

    # Loading -------------------------------------------------------------------------------

    @classmethod
    def from_env_var(cls) -> "Keyring | None":
        raw = os.environ.get(SECRET_KEY_ENV, "")
        keys = [item.strip().encode("ascii") for item in raw.split(",") if item.strip()]
        return cls(keys) if keys else None

    @classmethod
    def read_file(cls, path: Path) -> "Keyring":
        """The keyring in `path`; raises KeyFileMissing if there is no such file."""
        try:
            text = path.read_text(encoding="ascii")
            signature = _signature(path)
        except FileNotFoundError:
            raise KeyFileMissing(path) from None
        keys = [
            line.strip().encode("ascii")
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not keys:
            raise StoreError(f"the secret key file {path} holds no key")
        return cls(keys, path=path, signature=signature)

    @classmethod
    def load(cls, path: Path | None = None, *, create: bool = True) -> "Keyring":
        """The environment's keyring if CARTWIRE_SECRET_KEY is set, else the key file's.

        With `create`, a missing key file is created with one new key (under the lock, so two
        processes starting at once agree on the key).
        """
        from_env = cls.from_env_var()
        if from_env is not None:
            return from_env
        key_file = path if path is not None else key_file_path()
        if key_file.exists() or not create:
            return cls.read_file(key_file)
        with file_lock(_lock_path(key_file), exclusive=True):
            if key_file.exists():
                return cls.read_file(key_file)
            return cls([generate_key()], path=key_file)._persisted()

    def changed_on_disk(self) -> bool:
        return self.path is not None and _signature(self.path) != self.signature

    def reload(self) -> "Keyring":
        """This keyring as its file now reads (another process may have rotated it)."""
        return self if self.path is None else Keyring.read_file(self.path)

    def lock(self, *, exclusive: bool) -> AbstractContextManager[None]:
        """The inter-process lock guarding the key file; nothing to guard for env keys."""
        if self.path is None:
            return nullcontext()
        return file_lock(_lock_path(self.path), exclusive=exclusive)

    # Encryption ----------------------------------------------------------------------------

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, column: str, instance: str | None) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise self._error(column, instance) from None

    def rotate_token(self, token: str, *, column: str, instance: str | None) -> str:
        """The value re-encrypted under the newest key (it may be under any key of the ring)."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise self._error(column, instance) from None

    def _error(self, column: str, instance: str | None) -> DecryptError:
        return DecryptError(column=column, instance=instance, key_source=self.source)

    # Changing the keys ---------------------------------------------------------------------

    def add_key(self, key: bytes) -> "Keyring":
        """A keyring with `key` first (it will encrypt) and every current key kept.

        For a file keyring this rewrites the file: hold `lock(exclusive=True)`.
        """
        ring = Keyring([key, *(k for k in self._keys if k != key)], path=self.path)
        return ring._persisted() if ring.path is not None else ring

    def drop_old(self) -> "Keyring":
        """A keyring with only the newest key; only once nothing is encrypted under the others.

        For a file keyring this rewrites the file: hold `lock(exclusive=True)`.
        """
        ring = Keyring(self._keys[:1], path=self.path)
        return ring._persisted() if ring.path is not None else ring

    def _persisted(self) -> "Keyring":
        assert self.path is not None
        body = "".join(key.decode("ascii") + "\n" for key in self._keys)
        write_private(self.path, _HEADER + body)
        _fsync(self.path)
        return Keyring(self._keys, path=self.path, signature=_signature(self.path))
