"""API keys, users and sessions in the store, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cartwire.store import NameTaken, Store
from cartwire.store.digests import digest

KEY = "cw_" + "k" * 43
TOKEN = "session-token-" + "t" * 30
T0 = datetime(2026, 12, 10, 9, 30, 15, 123456, tzinfo=UTC)


def _raw(store: Store, query: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_an_api_key_is_stored_as_its_digest_and_found_by_the_key(store: Store) -> None:
    added = store.api_keys.add("ci", "manager", KEY, T0)
    assert (added.name, added.role, added.prefix) == ("ci", "manager", KEY[:8])
    assert (added.created_at, added.last_used_at, added.revoked_at) == (T0, None, None)
    assert _raw(store, "SELECT name, key_hash, prefix FROM api_keys") == [
        ("ci", digest(KEY), KEY[:8])
    ]
    assert store.api_keys.find(KEY) == added
    assert store.api_keys.find(KEY + "x") is None
    assert store.api_keys.find(digest(KEY)) is None  # the digest is not a key

    store.api_keys.used("ci", T0 + timedelta(minutes=5))
    assert store.api_keys.all()[0].last_used_at == T0 + timedelta(minutes=5)


def test_a_key_name_stays_taken_after_revoking_and_the_first_revocation_time_stays(
    store: Store,
) -> None:
    store.api_keys.add("ci", "user", KEY, T0)
    revoked = store.api_keys.revoke("ci", T0 + timedelta(hours=1))
    assert revoked is not None
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    again = store.api_keys.revoke("ci", T0 + timedelta(hours=2))
    assert again is not None
    assert again.revoked_at == T0 + timedelta(hours=1)
    assert store.api_keys.revoke("nobody", T0) is None
    with pytest.raises(NameTaken, match="an API key named 'ci' already exists"):
        store.api_keys.add("ci", "user", KEY + "2", T0)
    assert [key.name for key in store.api_keys.all()] == ["ci"]


@pytest.mark.parametrize("table", ["api_keys", "users"])
def test_the_database_refuses_any_other_role(store: Store, table: str) -> None:
    columns = {
        "api_keys": "(name, role, key_hash, prefix, created_at) VALUES ('x', :role, 'h', 'p', :at)",
        "users": "(name, role, password_hash, created_at, disabled) "
        "VALUES ('x', :role, 'h', :at, false)",
    }[table]
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO {table} {columns}"),
            {"role": "owner", "at": T0.replace(tzinfo=None)},
        )


def test_users_are_added_read_rehashed_and_removed(store: Store) -> None:
    assert store.users.any() is False
    added = store.users.add("alice", "admin", "$argon2id$first", T0)
    store.users.add("bob", "read-only", "$argon2id$bob", T0)
    assert store.users.any() is True
    assert "$argon2id" not in repr(added)
    assert store.users.get("alice") == added
    assert store.users.get("nobody") is None
    assert [(user.name, user.role, user.disabled) for user in store.users.all()] == [
        ("alice", "admin", False),
        ("bob", "read-only", False),
    ]
    with pytest.raises(NameTaken, match="a user named 'alice' already exists"):
        store.users.add("alice", "user", "$argon2id$other", T0)

    store.users.set_password_hash("alice", "$argon2id$second")
    stored = store.users.get("alice")
    assert stored is not None
    assert stored.password_hash == "$argon2id$second"

    assert store.users.remove("alice") is True
    assert store.users.remove("alice") is False
    assert [user.name for user in store.users.all()] == ["bob"]


def test_a_session_is_found_by_its_token_with_its_user_and_ends(store: Store) -> None:
    store.users.add("alice", "manager", "$argon2id$a", T0)
    assert store.sessions.start(TOKEN, "alice", "csrf-1", T0, T0 + timedelta(hours=12))
    assert _raw(store, "SELECT token_hash, csrf_token FROM sessions") == [(digest(TOKEN), "csrf-1")]

    found = store.sessions.get(TOKEN)
    assert found is not None
    assert (found.user.name, found.user.role, found.csrf_token) == ("alice", "manager", "csrf-1")
    assert (found.created_at, found.expires_at, found.last_seen_at) == (
        T0,
        T0 + timedelta(hours=12),
        T0,
    )
    assert store.sessions.get(digest(TOKEN)) is None

    store.sessions.seen(TOKEN, T0 + timedelta(minutes=3))
    seen = store.sessions.get(TOKEN)
    assert seen is not None
    assert seen.last_seen_at == T0 + timedelta(minutes=3)

    store.sessions.end(TOKEN)
    store.sessions.end(TOKEN)  # ending it twice is no error
    assert store.sessions.get(TOKEN) is None


def test_no_session_starts_for_a_missing_user(store: Store) -> None:
    assert store.sessions.start(TOKEN, "nobody", "csrf", T0, T0 + timedelta(hours=1)) is False
    assert _raw(store, "SELECT COUNT(*) FROM sessions") == [(0,)]


def test_sessions_go_with_their_user_and_when_expired(store: Store) -> None:
    store.users.add("alice", "user", "$argon2id$a", T0)
    store.users.add("bob", "user", "$argon2id$b", T0)
    store.sessions.start("alice-1", "alice", "c1", T0, T0 + timedelta(hours=1))
    store.sessions.start("alice-2", "alice", "c2", T0, T0 + timedelta(hours=3))
    store.sessions.start("bob-1", "bob", "c3", T0, T0 + timedelta(hours=1))

    store.sessions.end_expired(T0 + timedelta(hours=1))
    assert [store.sessions.get(t) is not None for t in ("alice-1", "alice-2", "bob-1")] == [
        False,
        True,
        False,
    ]
    store.users.remove("alice")
    assert store.sessions.get("alice-2") is None
    assert _raw(store, "SELECT COUNT(*) FROM sessions") == [(0,)]
