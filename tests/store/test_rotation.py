"""Key rotation, in process: what it rewrites, which keys remain, and how other stores cope."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from cartwire.store import CachedToken, DecryptError, Store, StoreError
from cartwire.store.secrets import SECRET_KEY_ENV, Keyring
from tests.store.helpers import make_record, secret_for, token_for

NAMES = ["alpha", "bravo", "charlie"]


def _populate(store: Store, names: list[str] = NAMES) -> None:
    now = datetime.now(UTC)
    for name in names:
        store.instances.add(make_record(name))
        token = CachedToken(token_for(name), now + timedelta(hours=1), None, now)
        store.tokens.save(f"key-{name}", name, token)


def _assert_all_readable(store: Store, names: list[str] = NAMES) -> None:
    secrets = {r.name: r.secrets["client_secret"] for r in store.instances.all()}
    assert {name: secrets.get(name) for name in names} == {name: secret_for(name) for name in names}
    for name in names:
        token = store.tokens.load(f"key-{name}")
        assert token is not None
        assert token.access_token == token_for(name)


def _raw_values(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        secrets = connection.execute(text("SELECT secrets_enc FROM instances")).scalars().all()
        tokens = connection.execute(text("SELECT access_token_enc FROM tokens")).scalars().all()
    return [*secrets, *tokens]


def _file_keys(home: Path) -> list[bytes]:
    return list(Keyring.read_file(home / "secret.key").keys)


def test_rotation_reencrypts_every_value_under_a_new_key(store: Store, home: Path) -> None:
    _populate(store)
    (old_key,) = _file_keys(home)

    assert store.encryption.rotate() == 2 * len(NAMES)

    (new_key,) = _file_keys(home)
    assert new_key != old_key
    for value in _raw_values(store):
        Fernet(new_key).decrypt(value.encode())
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(value.encode())
    _assert_all_readable(store)


def test_rotation_to_a_given_key(store: Store, home: Path) -> None:
    _populate(store)
    chosen = Fernet.generate_key()
    store.encryption.rotate(chosen)
    assert _file_keys(home) == [chosen]
    _assert_all_readable(store)
    with Store.open(str(store.engine.url.render_as_string(hide_password=False))) as fresh:
        _assert_all_readable(fresh)


def test_rotating_an_empty_store(store: Store, home: Path) -> None:
    assert store.encryption.rotate() == 0
    assert len(_file_keys(home)) == 1


def test_invalid_new_key_changes_nothing(store: Store, home: Path) -> None:
    _populate(store)
    before = (home / "secret.key").read_bytes()
    with pytest.raises(StoreError, match="not a valid Fernet key") as raised:
        store.encryption.rotate(b"hunter2-not-a-key")
    assert "hunter2" not in str(raised.value)
    assert (home / "secret.key").read_bytes() == before
    _assert_all_readable(store)


def test_undecryptable_value_aborts_the_rotation_without_changes(store: Store, home: Path) -> None:
    _populate(store)
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"client_secret":"x"}').decode()
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE instances SET secrets_enc = :v WHERE name = 'bravo'"), {"v": foreign}
        )
    values_before = _raw_values(store)

    with pytest.raises(DecryptError, match="'bravo'"):
        store.encryption.rotate()

    assert _raw_values(store) == values_before  # rolled back
    assert len(_file_keys(home)) == 2  # the new key stays: harmless, and safe if commit was lost
    assert store.instances.get("alpha").secrets == {"client_secret": secret_for("alpha")}


def test_other_stores_keep_working_after_a_rotation(db_url: str, home: Path) -> None:
    with Store.open(db_url) as rotator, Store.open(db_url) as stale:
        _populate(rotator)
        _assert_all_readable(stale)  # `stale` has loaded the old keyring

        rotator.encryption.rotate()
        stale.instances.add(make_record("delta"))  # must encrypt under the new key...
        rotator.encryption.rotate()  # ...or this rotation could not read it

        _assert_all_readable(stale)  # reloads the key file when a value doesn't decrypt
        assert {r.name: r.secrets["client_secret"] for r in stale.instances.all()} == {
            name: secret_for(name) for name in [*NAMES, "delta"]
        }
        (key,) = _file_keys(home)
        for value in _raw_values(rotator):
            Fernet(key).decrypt(value.encode())


def test_env_keys_rotate_to_a_given_key(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, old.decode())
    with Store.open(db_url) as store:
        _populate(store)
        assert store.encryption.rotate(new) == 2 * len(NAMES)
        _assert_all_readable(store)  # this process keeps both keys until it ends
        for value in _raw_values(store):
            Fernet(new).decrypt(value.encode())

    with Store.open(db_url) as stale_env, pytest.raises(DecryptError):
        stale_env.instances.get("alpha")  # the user has not switched the variable yet
    monkeypatch.setenv(SECRET_KEY_ENV, new.decode())
    with Store.open(db_url) as store:
        _assert_all_readable(store)


def test_env_keys_rotate_to_their_first_key(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, old.decode())
    with Store.open(db_url) as store:
        _populate(store)
    monkeypatch.setenv(SECRET_KEY_ENV, f"{new.decode()},{old.decode()}")
    with Store.open(db_url) as store:
        assert store.encryption.rotate() == 2 * len(NAMES)
    monkeypatch.setenv(SECRET_KEY_ENV, new.decode())
    with Store.open(db_url) as store:
        _assert_all_readable(store)
