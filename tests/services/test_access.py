"""The access service as the HTTP API and web UI call it: roles, API keys, users and sessions,
on a real SQLite store, with a clock the tests move instead of waiting."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from cartwire.services import errors
from cartwire.services.access import (
    ROLES,
    AccessRefused,
    AccessService,
    LoginFailed,
    Permission,
    Principal,
    allows,
)
from cartwire.services.context import Services
from cartwire.store import Store
from cartwire.store.digests import digest
from cartwire.store.models import ROLES as STORED_ROLES

PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'cartwire.db'}") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(store: Store, clock: Clock) -> AccessService:
    return AccessService(store, clock=clock)


def _raw(store: Store, query: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_what_each_role_may_do() -> None:
    granted = {role: {p.value for p in Permission if allows(role, p)} for role in ROLES}
    assert granted == {
        "admin": {"read", "operate", "manage", "administer"},
        "manager": {"read", "operate", "manage"},
        "user": {"read", "operate"},
        "read-only": {"read"},
    }
    assert Principal("ci", "user", "key").can(Permission.OPERATE)
    assert not Principal("ci", "user", "key").can(Permission.MANAGE)
    assert ROLES == STORED_ROLES  # the table's CHECK lets in exactly these


def test_a_key_is_shown_once_stored_as_its_digest_and_authenticates(
    access: AccessService, store: Store
) -> None:
    created = access.create_key("ci", "manager")
    assert created.key.startswith("cw_")
    assert len(created.key) >= 3 + 43  # 32 random bytes, base64url
    assert created.api_key.model_dump() == {
        "name": "ci",
        "role": "manager",
        "prefix": created.key[:8],
        "created_at": T0,
        "last_used_at": None,
        "revoked_at": None,
    }
    stored = _raw(store, "SELECT * FROM api_keys")
    assert created.key not in repr(stored)
    assert _raw(store, "SELECT key_hash FROM api_keys") == [(digest(created.key),)]
    assert created.key not in repr(access.keys())

    assert access.authenticate_key(created.key) == Principal("ci", "manager", "key")
    assert access.authenticate_key(created.key + "x") is None
    assert access.authenticate_key("") is None
    assert access.authenticate_key(digest(created.key)) is None


def test_last_use_is_written_at_most_once_a_minute(access: AccessService, clock: Clock) -> None:
    key = access.create_key("ci", "user").key
    access.authenticate_key(key)
    clock.advance(seconds=59)
    access.authenticate_key(key)
    assert access.keys()[0].last_used_at == T0
    clock.advance(seconds=1)
    access.authenticate_key(key)
    assert access.keys()[0].last_used_at == T0 + timedelta(minutes=1)


def test_a_revoked_key_no_longer_authenticates_and_stays_listed(
    access: AccessService, clock: Clock
) -> None:
    kept = access.create_key("kept", "read-only").key
    gone = access.create_key("gone", "admin").key
    clock.advance(hours=1)
    revoked = access.revoke("gone")
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert access.authenticate_key(gone) is None
    assert access.authenticate_key(kept) == Principal("kept", "read-only", "key")
    listed = access.keys()
    assert [(k.name, k.revoked_at) for k in listed] == [
        ("gone", T0 + timedelta(hours=1)),
        ("kept", None),
    ]


def test_bad_key_input_names_the_field_and_stores_nothing(access: AccessService) -> None:
    with pytest.raises(AccessRefused) as bad_role:
        access.create_key("ci", "owner")
    assert bad_role.value.field == "role"
    assert str(bad_role.value) == (
        "role: must be one of admin, manager, user, read-only (got 'owner')"
    )
    with pytest.raises(AccessRefused, match=r"^name: must be 1 to 64 letters") as bad_name:
        access.create_key("has spaces", "user")
    assert bad_name.value.field == "name"
    assert access.keys() == []

    access.create_key("ci", "user")
    access.revoke("ci")
    with pytest.raises(AccessRefused, match="'ci' is taken by another API key"):
        access.create_key("ci", "user")
    with pytest.raises(AccessRefused, match=r"^name: no API key is named 'nobody'"):
        access.revoke("nobody")
    listed = access.keys()
    assert [k.name for k in listed] == ["ci"]


def test_users_are_added_with_an_argon2_hash_listed_and_removed(
    access: AccessService, store: Store
) -> None:
    assert access.has_users() is False
    added = access.add_user("alice", "admin", PASSWORD)
    assert added.model_dump() == {
        "name": "alice",
        "role": "admin",
        "created_at": T0,
        "disabled": False,
    }
    [(stored_hash,)] = _raw(store, "SELECT password_hash FROM users")
    assert isinstance(stored_hash, str)
    assert stored_hash.startswith("$argon2id$")
    assert PASSWORD not in stored_hash
    assert access.has_users() is True
    assert [user.name for user in access.users()] == ["alice"]
    access.remove_user("alice")
    assert access.users() == []
    with pytest.raises(AccessRefused, match=r"^name: no user is named 'alice'"):
        access.remove_user("alice")


def test_bad_user_input_names_the_field_and_stores_nothing(access: AccessService) -> None:
    for args, field in [
        (("alice", "boss", PASSWORD), "role"),
        (("alice", "user", "short pass"), "password"),
        (("", "user", PASSWORD), "name"),
    ]:
        with pytest.raises(AccessRefused) as refused:
            access.add_user(*args)
        assert refused.value.field == field
    assert access.has_users() is False
    access.add_user("alice", "user", PASSWORD)
    with pytest.raises(AccessRefused, match="'alice' is taken by another user"):
        access.add_user("alice", "admin", PASSWORD + "!")
    assert [(u.name, u.role) for u in access.users()] == [("alice", "user")]


def test_login_gives_a_session_with_its_csrf_token(access: AccessService, store: Store) -> None:
    access.add_user("alice", "manager", PASSWORD)
    grant = access.login("alice", PASSWORD)
    assert grant.expires_at == T0 + timedelta(hours=12)
    assert grant.user.name == "alice"
    assert grant.token != grant.csrf_token
    assert _raw(store, "SELECT token_hash FROM sessions") == [(digest(grant.token),)]
    assert access.session(grant.token) == (
        Principal("alice", "manager", "user"),
        grant.csrf_token,
    )
    assert access.session(grant.csrf_token) is None
    assert access.session(digest(grant.token)) is None


def test_a_wrong_password_and_an_unknown_name_fail_alike(access: AccessService) -> None:
    access.add_user("alice", "user", PASSWORD)
    messages = set()
    for name, password in [("alice", PASSWORD + "x"), ("nobody", PASSWORD), ("alice", "")]:
        with pytest.raises(LoginFailed) as failed:
            access.login(name, password)
        messages.add(str(failed.value))
    assert messages == {"wrong name or password"}


def test_a_session_expires_and_its_last_use_slides(
    access: AccessService, store: Store, clock: Clock
) -> None:
    access.add_user("alice", "user", PASSWORD)
    grant = access.login("alice", PASSWORD, ttl=timedelta(hours=1))
    clock.advance(minutes=30)
    assert access.session(grant.token) is not None
    assert _raw(store, "SELECT COUNT(*) FROM sessions") == [(1,)]
    seen = store.sessions.get(grant.token)
    assert seen is not None
    assert seen.last_seen_at == T0 + timedelta(minutes=30)
    clock.advance(minutes=30)
    assert access.session(grant.token) is None
    assert _raw(store, "SELECT COUNT(*) FROM sessions") == [(0,)]  # ended when found expired


def test_expired_sessions_are_swept_as_someone_signs_in(
    access: AccessService, store: Store, clock: Clock
) -> None:
    access.add_user("alice", "user", PASSWORD)
    access.login("alice", PASSWORD, ttl=timedelta(minutes=5))
    clock.advance(minutes=10)
    fresh = access.login("alice", PASSWORD)
    assert _raw(store, "SELECT token_hash FROM sessions") == [(digest(fresh.token),)]


def test_logout_ends_only_that_session(access: AccessService) -> None:
    access.add_user("alice", "user", PASSWORD)
    laptop, phone = access.login("alice", PASSWORD), access.login("alice", PASSWORD)
    access.logout(laptop.token)
    access.logout(laptop.token)  # twice: no error
    assert access.session(laptop.token) is None
    assert access.session(phone.token) is not None


def test_a_removed_or_disabled_users_sessions_are_refused(
    access: AccessService, store: Store
) -> None:
    access.add_user("alice", "admin", PASSWORD)
    access.add_user("bob", "user", PASSWORD)
    alice, bob = access.login("alice", PASSWORD), access.login("bob", PASSWORD)
    access.remove_user("alice")
    assert access.session(alice.token) is None
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE users SET disabled = true WHERE name = 'bob'"))
    assert access.session(bob.token) is None
    with pytest.raises(LoginFailed):
        access.login("bob", PASSWORD)


def test_a_hash_made_with_older_parameters_is_redone_at_login(
    access: AccessService, store: Store
) -> None:
    access.add_user("alice", "user", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    store.users.set_password_hash("alice", weak)
    access.login("alice", PASSWORD)
    redone = store.users.get("alice")
    assert redone is not None
    assert redone.password_hash != weak
    assert not PasswordHasher().check_needs_rehash(redone.password_hash)
    access.login("alice", PASSWORD)  # the new hash verifies too


def test_services_hand_out_the_access_service_and_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    with Services() as services:
        assert services.access is services.access
        assert services.access.has_users() is False
    assert (errors.AccessRefused, errors.LoginFailed) == (AccessRefused, LoginFailed)
