"""Persistence for cartwire: instances, cached tokens and (later) flows and runs.

SQLite in the data directory by default, any SQLAlchemy URL through CARTWIRE_DATABASE_URL;
secret fields are encrypted at rest with a Fernet keyring (see `secrets.py` and `rotation.py`).
"""

from cartwire.store.errors import (
    DecryptError,
    InstanceExists,
    InstanceNotFound,
    InvalidRecord,
    NameTaken,
    PoolNotFound,
    StoreError,
)
from cartwire.store.records import CachedToken, InstanceRecord, PoolRecord
from cartwire.store.secrets import KeyFileMissing
from cartwire.store.store import Store

__all__ = [
    "CachedToken",
    "DecryptError",
    "InstanceExists",
    "InstanceNotFound",
    "InstanceRecord",
    "InvalidRecord",
    "KeyFileMissing",
    "NameTaken",
    "PoolNotFound",
    "PoolRecord",
    "Store",
    "StoreError",
]
