"""Instances and the token cache, on SQLite and on PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cartwire.store import (
    CachedToken,
    InstanceExists,
    InstanceNotFound,
    InstanceRecord,
    InvalidRecord,
    Store,
    StoreError,
)
from tests.store.helpers import make_record, secret_for, token_for


def _token(value: str, *, minutes: int = 60) -> CachedToken:
    obtained = datetime.now(UTC).replace(microsecond=123456)
    return CachedToken(value, obtained + timedelta(minutes=minutes), "manage_project", obtained)


def test_add_then_get_returns_everything_stored(store: Store) -> None:
    record = make_record(
        "shop-eu",
        rate_limit_amount=10,
        rate_limit_unit="second",
        pool="ct-shared",
        timezone="Europe/Berlin",
    )
    added = store.instances.add(record)
    loaded = store.instances.get("shop-eu")

    assert loaded == added
    assert loaded.secrets == {"client_secret": secret_for("shop-eu")}
    assert loaded.settings == record.settings
    assert (loaded.rate_limit_amount, loaded.rate_limit_unit, loaded.pool) == (
        10,
        "second",
        "ct-shared",
    )
    assert loaded.timezone == "Europe/Berlin"
    assert loaded.created_at is not None
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.updated_at == loaded.created_at


def test_secrets_with_several_fields_and_unicode_round_trip(store: Store) -> None:
    secrets = {"client_secret": "sécret-ü-🔑", "refresh_token": "r" * 3000, "empty": ""}
    store.instances.add(make_record("multi", secrets=secrets, settings={}))
    assert store.instances.get("multi").secrets == secrets
    assert store.instances.get("multi").settings == {}


def test_list_is_ordered_by_name(store: Store) -> None:
    for name in ["charlie", "alpha", "bravo"]:
        store.instances.add(make_record(name))
    assert [r.name for r in store.instances.all()] == ["alpha", "bravo", "charlie"]
    assert [r.secrets["client_secret"] for r in store.instances.all()] == [
        secret_for("alpha"),
        secret_for("bravo"),
        secret_for("charlie"),
    ]


def test_empty_store_lists_nothing(store: Store) -> None:
    assert store.instances.all() == []


def test_names_are_unique(store: Store) -> None:
    store.instances.add(make_record("dup"))
    with pytest.raises(InstanceExists) as raised:
        store.instances.add(make_record("dup", connector="commercelayer"))
    assert raised.value.name == "dup"
    assert isinstance(raised.value, StoreError)
    assert store.instances.get("dup").connector == "commercetools"


@pytest.mark.parametrize("operation", ["get", "replace", "remove"])
def test_unknown_names_raise_not_found(store: Store, operation: str) -> None:
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: store.instances.get("ghost"),
        "replace": lambda: store.instances.replace(make_record("ghost")),
        "remove": lambda: store.instances.remove("ghost"),
    }
    with pytest.raises(InstanceNotFound) as raised:
        calls[operation]()
    assert raised.value.name == "ghost"
    assert "ghost" in str(raised.value)


def test_replace_overwrites_fields_and_keeps_creation_time(store: Store) -> None:
    added = store.instances.add(make_record("shop"))
    changed = make_record(
        "shop",
        settings={"client_id": "new-client"},
        secrets={"client_secret": "new-secret"},
        rate_limit_amount=5,
        rate_limit_unit="minute",
    )
    replaced = store.instances.replace(changed)
    loaded = store.instances.get("shop")

    assert loaded == replaced
    assert loaded.settings == {"client_id": "new-client"}
    assert loaded.secrets == {"client_secret": "new-secret"}
    assert (loaded.rate_limit_amount, loaded.rate_limit_unit) == (5, "minute")
    assert loaded.created_at == added.created_at
    assert loaded.updated_at is not None
    assert added.updated_at is not None
    assert loaded.updated_at >= added.updated_at
    assert len(store.instances.all()) == 1


def test_replace_drops_cached_tokens_only_when_credentials_change(store: Store) -> None:
    store.instances.add(make_record("shop"))
    store.tokens.save("k", "shop", _token("tok"))

    store.instances.replace(make_record("shop", rate_limit_amount=3, rate_limit_unit="second"))
    assert store.tokens.load("k") is not None  # same credentials: the token is still good

    store.instances.replace(make_record("shop", secrets={"client_secret": "rotated"}))
    assert store.tokens.load("k") is None


def test_remove_deletes_the_instance_and_its_tokens(store: Store) -> None:
    store.instances.add(make_record("gone"))
    store.instances.add(make_record("kept"))
    store.tokens.save("gone-key", "gone", _token("t1"))
    store.tokens.save("kept-key", "kept", _token("t2"))

    store.instances.remove("gone")

    assert [r.name for r in store.instances.all()] == ["kept"]
    assert store.tokens.load("gone-key") is None
    assert store.tokens.load("kept-key") is not None
    store.instances.add(make_record("gone"))  # the name is free again
    assert store.tokens.load("gone-key") is None


def test_foreign_key_cascades_in_the_database_itself(store: Store) -> None:
    store.instances.add(make_record("a"))
    store.tokens.save("a-key", "a", _token("t"))
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM instances WHERE name = 'a'"))
        remaining = connection.execute(text("SELECT count(*) FROM tokens")).scalar_one()
    assert remaining == 0


def test_token_round_trip_keeps_tz_aware_utc_datetimes(store: Store) -> None:
    store.instances.add(make_record("shop"))
    token = _token(token_for("shop"))
    store.tokens.save("shop:manage_project", "shop", token)

    loaded = store.tokens.load("shop:manage_project")

    assert loaded == token
    assert loaded.expires_at.tzinfo is not None
    assert loaded.expires_at.utcoffset() == timedelta(0)
    assert loaded.obtained_at.utcoffset() == timedelta(0)


def test_token_datetimes_in_other_zones_come_back_as_the_same_instant_in_utc(
    store: Store,
) -> None:
    store.instances.add(make_record("shop"))
    tokyo = timezone(timedelta(hours=9))
    expires = datetime(2030, 1, 2, 9, 30, 15, 654321, tzinfo=tokyo)
    obtained = datetime(2030, 1, 2, 8, 30, tzinfo=tokyo)
    store.tokens.save("k", "shop", CachedToken("t", expires, None, obtained))

    loaded = store.tokens.load("k")

    assert loaded is not None
    assert loaded.expires_at == expires
    assert loaded.expires_at.tzinfo == UTC
    assert loaded.expires_at.hour == 0
    assert loaded.scope is None


def test_expired_tokens_are_stored_and_returned_for_the_caller_to_judge(store: Store) -> None:
    store.instances.add(make_record("shop"))
    store.tokens.save("k", "shop", _token("old", minutes=-5))
    loaded = store.tokens.load("k")
    assert loaded is not None
    assert loaded.is_expired()
    assert not _token("fresh").is_expired()
    assert _token("soon", minutes=1).is_expired(leeway=timedelta(minutes=2))


def test_save_token_upserts_by_cache_key(store: Store) -> None:
    store.instances.add(make_record("shop"))
    store.tokens.save("k", "shop", _token("first"))
    second = _token("second", minutes=120)
    store.tokens.save("k", "shop", second)
    assert store.tokens.load("k") == second
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tokens")).scalar_one() == 1


def test_unknown_cache_key_is_a_miss(store: Store) -> None:
    assert store.tokens.load("nothing") is None


def test_save_token_for_unknown_instance_raises(store: Store) -> None:
    with pytest.raises(InstanceNotFound):
        store.tokens.save("k", "ghost", _token("t"))


def test_naive_token_datetimes_are_refused(store: Store) -> None:
    store.instances.add(make_record("shop"))
    naive = datetime(2030, 1, 1, 12, 0)
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        store.tokens.save("k", "shop", CachedToken("t", naive, None, datetime.now(UTC)))


def test_delete_tokens_forgets_only_that_instance(store: Store) -> None:
    store.instances.add(make_record("a"))
    store.instances.add(make_record("b"))
    store.tokens.save("a1", "a", _token("t"))
    store.tokens.save("a2", "a", _token("t"))
    store.tokens.save("b1", "b", _token("t"))

    store.tokens.delete("a")
    store.tokens.delete("ghost")  # unknown instance: nothing to forget

    assert store.tokens.load("a1") is None
    assert store.tokens.load("a2") is None
    assert store.tokens.load("b1") is not None


def test_returned_records_are_independent_copies(store: Store) -> None:
    record = make_record("shop")
    added = store.instances.add(record)
    record.secrets["client_secret"] = "mutated"
    added.settings["client_id"] = "mutated"
    loaded = store.instances.get("shop")
    assert loaded.secrets == {"client_secret": secret_for("shop")}
    assert loaded.settings["client_id"] == "client-shop"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "non-empty"),
        ({"rate_limit_unit": "week", "rate_limit_amount": 1}, "rate_limit_unit"),
        ({"rate_limit_amount": 0, "rate_limit_unit": "second"}, "positive"),
        ({"rate_limit_amount": "5", "rate_limit_unit": "second"}, "positive int"),
        ({"rate_limit_amount": 5}, "go together"),
        ({"settings": {"client_id": 5}}, "client_id"),
        ({"secrets": {"client_secret": None}}, "client_secret"),
    ],
)
def test_invalid_records_are_refused_before_writing(
    store: Store, change: dict[str, object], message: str
) -> None:
    record = make_record("bad")
    for field, value in change.items():
        setattr(record, field, value)
    with pytest.raises(InvalidRecord, match=message):
        store.instances.add(record)
    assert store.instances.all() == []


def test_record_defaults() -> None:
    record = InstanceRecord("n", "commercelayer", "oauth2_client_credentials", {}, {})
    assert record.timezone == "UTC"
    assert record.rate_limit_amount is None
    assert record.pool is None
    assert record.created_at is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "n" * 201), ("connector", "c" * 101), ("pool", "p" * 201), ("timezone", None)],
)
def test_over_long_or_missing_fields_are_refused_alike_on_every_backend(
    store: Store, field: str, value: object
) -> None:
    record = make_record("ok")
    setattr(record, field, value)
    with pytest.raises(InvalidRecord, match=field):
        store.instances.add(record)


def test_over_long_cache_key_is_refused(store: Store) -> None:
    store.instances.add(make_record("shop"))
    with pytest.raises(InvalidRecord, match="cache_key"):
        store.tokens.save("k" * 501, "shop", _token("t"))


def test_instance_names_need_no_decryption(store: Store) -> None:
    for name in ["b", "a"]:
        store.instances.add(make_record(name))
    assert store.instances.names() == ["a", "b"]


def test_database_failures_surface_as_store_errors(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE tokens"))
    with pytest.raises(StoreError, match="database error") as raised:
        store.tokens.load("k")
    assert "tokens" in str(raised.value)
