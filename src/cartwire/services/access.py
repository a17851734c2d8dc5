"""Who may do what through the HTTP API and the web UI: API keys, users, their sessions, roles.

The four roles are Patchworks': an admin does everything, users and API keys included; a
manager looks after instances, flows and runs; a user reads everything and runs, retries and
stops flows; read-only reads. A shell asks `Principal.can(Permission…)`, never compares role
names, so what each role may do is decided here alone.

API keys and session tokens are random and stored only as digests (`cartwire.store.digests`);
passwords are hashed with Argon2id, slow on purpose since people choose them. Nothing here
returns a stored secret: a key or a session token is shown once, when it is made.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from cartwire.instances.validation import NAME_PATTERN
from cartwire.refusals import FieldRefused
from cartwire.store import NameTaken, Store
from cartwire.store.api_keys import ApiKeyRecord
from cartwire.store.users import UserRecord

Role = Literal["admin", "manager", "user", "read-only"]
ROLES: tuple[Role, ...] = get_args(Role)


class Permission(StrEnum):
    READ = "read"  # see instances (secrets masked), flows, runs and their records
    OPERATE = "operate"  # start, retry and stop runs
    MANAGE = "manage"  # change instances, flows, bindings and schedules
    ADMINISTER = "administer"  # users and API keys


_GRANTS: dict[Role, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "manager": frozenset({Permission.READ, Permission.OPERATE, Permission.MANAGE}),
    "user": frozenset({Permission.READ, Permission.OPERATE}),
    "read-only": frozenset({Permission.READ}),
}

KEY_PREFIX = "cw_"  # tells a cartwire key apart in a config file or a secret scanner's report
MIN_PASSWORD_LENGTH = 12
DEFAULT_SESSION_TTL = timedelta(hours=12)
# Last use is written at most this often, so that a busy client does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)

NAME_RULE = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def allows(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


@dataclass(frozen=True)
class Principal:
    """Who is asking: an API key or a signed-in user, by name, with the role they act in."""

    name: str
    role: Role
    kind: Literal["key", "user"]

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


class ApiKeyView(BaseModel):
    name: str
    role: Role
    prefix: str  # the key's first characters, to tell keys apart; never the key
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> "ApiKeyView":
        return cls(
            name=record.name,
            role=parse_role(record.role),
            prefix=record.prefix,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


class CreatedKey(BaseModel):
    """A new key: `key` is its only appearance, it is not stored and cannot be shown again."""

    key: str
    api_key: ApiKeyView


class UserView(BaseModel):
    name: str
    role: Role
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, record: UserRecord) -> "UserView":
        return cls(
            name=record.name,
            role=parse_role(record.role),
            created_at=record.created_at,
            disabled=record.disabled,
        )


class SessionGrant(BaseModel):
    """A signed-in session: `token` goes in the cookie, `csrf_token` in each changing request."""

    token: str
    csrf_token: str
    expires_at: datetime
    user: UserView


class AccessRefused(FieldRefused):
    """Input that cannot be stored or acted on: which field, and the rule it broke."""


class LoginFailed(Exception):
    """A wrong name or a wrong password: the message never says which."""

    def __init__(self) -> None:
        super().__init__("wrong name or password")


def parse_role(text: str) -> Role:
    """The role named, or AccessRefused (for shells to check before asking for more)."""
    for role in ROLES:
        if text == role:
            return role
    raise AccessRefused("role", f"must be one of {', '.join(ROLES)} (got {text!r})")


def check_name(name: str) -> None:
    """AccessRefused unless `name` can name a key or a user."""
    if not NAME_PATTERN.fullmatch(name):
        raise AccessRefused("name", f"{NAME_RULE} (got {name!r})")


def _now() -> datetime:
    return datetime.now(UTC)


class AccessService:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = _now) -> None:
        """`clock` tells the time (tests move it instead of waiting)."""
        self._store = store
        self._clock = clock
        self._hasher = PasswordHasher()

    # API keys

    def create_key(self, name: str, role: str) -> CreatedKey:
        """A new key for `role`; the key is in the result and nowhere else."""
        check_name(name)
        checked = parse_role(role)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            record = self._store.api_keys.add(name, checked, key, self._clock())
        except NameTaken:
            raise AccessRefused(
                "name", f"{name!r} is taken by another API key (revoked keys keep their names)"
            ) from None
        return CreatedKey(key=key, api_key=ApiKeyView.of(record))

    def keys(self) -> list[ApiKeyView]:
        """Every key, revoked ones included, by name."""
        return [ApiKeyView.of(record) for record in self._store.api_keys.all()]

    def revoke(self, name: str) -> ApiKeyView:
        """Refuse the key from now on (revoking it again changes nothing)."""
        record = self._store.api_keys.revoke(name, self._clock())
        if record is None:
            raise AccessRefused(
                "name", f"no API key is named {name!r}; see `cartwire apikeys list`"
            )
        return ApiKeyView.of(record)

    def authenticate_key(self, key: str) -> Principal | None:
        """Who the key belongs to, or None for a key unknown or revoked.

        Found by its digest, so no stored key is compared with this one character by
        character (a comparison's timing would tell how much of a guess was right)."""
        record = self._store.api_keys.find(key)
        if record is None or record.revoked_at is not None:
            return None
        now = self._clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
            self._store.api_keys.used(record.name, now)
        return Principal(record.name, parse_role(record.role), "key")

    # Users

    def add_user(self, name: str, role: str, password: str) -> UserView:
        check_name(name)
        checked = parse_role(role)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccessRefused("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
        hashed = self._hasher.hash(password)
        try:
            record = self._store.users.add(name, checked, hashed, self._clock())
        except NameTaken:
            raise AccessRefused("name", f"{name!r} is taken by another user") from None
        return UserView.of(record)

    def users(self) -> list[UserView]:
        return [UserView.of(record) for record in self._store.users.all()]

    def remove_user(self, name: str) -> None:
        """Remove the user; their sessions end with them."""
        if not self._store.users.remove(name):
            raise AccessRefused("name", f"no user is named {name!r}; see `cartwire users list`")

    def has_users(self) -> bool:
        return self._store.users.any()

    # Sessions

    @cached_property
    def _dummy_hash(self) -> str:
        """What an unknown name's password is checked against, so it takes as long as a known
        one's (made with this hasher's parameters, as real hashes are)."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def login(self, name: str, password: str, ttl: timedelta = DEFAULT_SESSION_TTL) -> SessionGrant:
        """A new session for the user, or LoginFailed, which never says whether the name or the
        password was wrong: the password is checked even for an unknown or disabled name."""
        user = self._store.users.get(name)
        try:
            self._hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            raise LoginFailed from None
        if user is None or user.disabled:
            raise LoginFailed
        if self._hasher.check_needs_rehash(user.password_hash):
            self._store.users.set_password_hash(name, self._hasher.hash(password))
        now = self._clock()
        self._store.sessions.end_expired(now)
        token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        if not self._store.sessions.start(token, name, csrf_token, now, now + ttl):
            raise LoginFailed  # removed while signing in
        return SessionGrant(
            token=token, csrf_token=csrf_token, expires_at=now + ttl, user=UserView.of(user)
        )

    def session(self, token: str) -> tuple[Principal, str] | None:
        """(who, the session's CSRF token) for a live session; None when the token is unknown,
        the session expired, or its user was disabled or removed."""
        found = self._store.sessions.get(token)
        if found is None:
            return None
        now = self._clock()
        if found.expires_at <= now or found.user.disabled:
            self._store.sessions.end(token)
            return None
        if now - found.last_seen_at >= TOUCH_EVERY:
            self._store.sessions.seen(token, now)
        return Principal(found.user.name, parse_role(found.user.role), "user"), found.csrf_token

    def logout(self, token: str) -> None:
        """End the session (nothing happens for an unknown token)."""
        self._store.sessions.end(token)
