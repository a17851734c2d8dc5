"""The values the store hands out: plain dataclasses, detached from any database session.

Decrypted secrets live only in the `secrets` dict and `access_token` field; the `repr`s below mask
them because records get printed in debuggers, logs and test failure output.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cartwire.store.errors import InvalidRecord

MASK = "***"
RATE_LIMIT_UNITS = ("second", "minute", "hour", "day")
# Column sizes in models.py / the migrations; checked here so every backend refuses alike.
MAX_LENGTHS = {"name": 200, "connector": 100, "auth_method": 100, "timezone": 100, "pool": 200}
MAX_CACHE_KEY_LENGTH = 500


@dataclass
class InstanceRecord:
    """One configured connection to a platform account, with its credentials."""

    name: str
    connector: str
    auth_method: str
    settings: dict[str, str]
    secrets: dict[str, str] = field(repr=False)
    timezone: str = "UTC"
    rate_limit_amount: int | None = None
    rate_limit_unit: str | None = None
    pool: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __repr__(self) -> str:
        masked = dict.fromkeys(self.secrets, MASK)
        return (
            f"InstanceRecord(name={self.name!r}, connector={self.connector!r}, "
            f"auth_method={self.auth_method!r}, settings={self.settings!r}, secrets={masked!r}, "
            f"timezone={self.timezone!r}, rate_limit_amount={self.rate_limit_amount!r}, "
            f"rate_limit_unit={self.rate_limit_unit!r}, pool={self.pool!r}, "
            f"created_at={self.created_at!r}, updated_at={self.updated_at!r})"
        )


@dataclass(frozen=True)
class PoolRecord:
    """A concurrency pool: at most `size` requests in flight for all instances naming it."""

    name: str
    size: int
    updated_at: datetime | None = None


@dataclass
class CachedToken:
    """An access token kept between CLI calls so consecutive commands don't each fetch a new one."""

    access_token: str = field(repr=False)
    expires_at: datetime
    scope: str | None
    obtained_at: datetime

    def __repr__(self) -> str:
        return (
            f"CachedToken(access_token={MASK!r}, expires_at={self.expires_at!r}, "
            f"scope={self.scope!r}, obtained_at={self.obtained_at!r})"
        )

    def is_expired(self, now: datetime | None = None, leeway: timedelta = timedelta(0)) -> bool:
        """Whether the token is (or within `leeway` will be) expired, so callers refresh early."""
        moment = now if now is not None else datetime.now(UTC)
        return moment + leeway >= self.expires_at


def validate_instance(record: InstanceRecord) -> None:
    """Reject malformed records before they reach the database, naming fields but not values.

    Secret values are never echoed: a wrong type in `secrets` is reported by key only.
    """
    if not isinstance(record.name, str) or not record.name.strip():
        raise InvalidRecord("instance name must be a non-empty string")
    for field_name, limit in MAX_LENGTHS.items():
        value = getattr(record, field_name)
        if field_name == "pool" and value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidRecord(
                f"{field_name} of instance {record.name[:limit]!r} must be a string "
                f"of at most {limit} characters"
            )
    for label, mapping in (("settings", record.settings), ("secrets", record.secrets)):
        if not isinstance(mapping, dict):
            raise InvalidRecord(f"{label} of instance {record.name!r} must be a dict")
        for key, value in mapping.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidRecord(
                    f"{label} of instance {record.name!r}: field {key!r} must map a string "
                    "name to a string value"
                )
    if record.rate_limit_unit is not None and record.rate_limit_unit not in RATE_LIMIT_UNITS:
        raise InvalidRecord(
            f"rate_limit_unit of instance {record.name!r} must be one of {RATE_LIMIT_UNITS}, "
            f"not {record.rate_limit_unit!r}"
        )
    amount = record.rate_limit_amount
    if amount is not None and (type(amount) is not int or amount <= 0):
        raise InvalidRecord(f"rate_limit_amount of instance {record.name!r} must be a positive int")
    if (record.rate_limit_amount is None) != (record.rate_limit_unit is None):
        raise InvalidRecord(
            f"instance {record.name!r}: rate_limit_amount and rate_limit_unit go together"
        )


def aware_utc(value: datetime, what: str) -> datetime:
    """UTC, refusing naive datetimes: a token's expiry must not depend on the local zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{what} must be timezone-aware")
    return value.astimezone(UTC)
