"""The keyring: where keys come from, how the key file is created, what a wrong key looks like."""

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cartwire.store import DecryptError, KeyFileMissing, Store, StoreError
from cartwire.store.secrets import SECRET_KEY_ENV, Keyring
from tests.store.helpers import make_record, secret_for


def _file_keys(home: Path) -> list[str]:
    lines = (home / "secret.key").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_key_file_is_created_owner_only_on_first_use(home: Path) -> None:
    with Store.open() as store:
        assert not (home / "secret.key").exists()  # opening alone needs no key
        store.instances.add(make_record("a"))
    key_file = home / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(_file_keys(home)) == 1
    Fernet(_file_keys(home)[0].encode())  # a valid key


def test_key_file_is_reused_by_later_stores(home: Path) -> None:
    with Store.open() as store:
        store.instances.add(make_record("a"))
    before = (home / "secret.key").read_bytes()
    with Store.open() as store:
        assert store.instances.get("a").secrets == {"client_secret": secret_for("a")}
        store.instances.add(make_record("b"))
    assert (home / "secret.key").read_bytes() == before


def test_env_key_is_used_and_no_key_file_is_written(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, key.decode())
    with Store.open() as store:
        store.instances.add(make_record("a"))
        assert store.encryption.keyring.from_env
        with store.engine.connect() as connection:
            raw = connection.exec_driver_sql("SELECT secrets_enc FROM instances").scalar_one()
    assert not (home / "secret.key").exists()
    assert (
        Fernet(key).decrypt(raw.encode())
        == b'{"client_secret":"' + secret_for("a").encode() + b'"}'
    )


def test_env_may_hold_several_keys_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv(SECRET_KEY_ENV, old.decode())
    with Store.open() as store:
        store.instances.add(make_record("under-old"))
    monkeypatch.setenv(SECRET_KEY_ENV, f" {new.decode()} , {old.decode()} ")
    with Store.open() as store:
        store.instances.add(make_record("under-new"))
        assert store.instances.get("under-old").secrets == {
            "client_secret": secret_for("under-old")
        }
        with store.engine.connect() as connection:
            raw = connection.exec_driver_sql(
                "SELECT secrets_enc FROM instances WHERE name = 'under-new'"
            ).scalar_one()
    Fernet(new).decrypt(raw.encode())  # the first key encrypts


def test_env_key_wins_over_the_key_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open() as store:
        store.instances.add(make_record("a"))
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with Store.open() as store, pytest.raises(DecryptError):
        store.instances.get("a")


def test_wrong_key_raises_decrypt_error_naming_instance_and_column(
    monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    with Store.open() as store:
        store.instances.add(make_record("shop-eu"))
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with Store.open() as store:
        with pytest.raises(DecryptError) as raised:
            store.instances.get("shop-eu")
        with pytest.raises(DecryptError):
            store.instances.all()
        assert store.instances.names() == ["shop-eu"]  # listing names needs no key
    message = str(raised.value)
    assert raised.value.instance == "shop-eu"
    assert raised.value.column == "instances.secrets_enc"
    assert "'shop-eu'" in message
    assert "instances.secrets_enc" in message
    assert "CARTWIRE_SECRET_KEY" in message
    assert "secret.key" in message
    assert secret_for("shop-eu") not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_wrong_key_for_a_cached_token_names_the_token_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    from cartwire.store import CachedToken

    with Store.open() as store:
        store.instances.add(make_record("shop"))
        now = datetime.now(UTC)
        store.tokens.save("k", "shop", CachedToken("tok", now, None, now))
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    with Store.open() as store, pytest.raises(DecryptError, match=r"tokens\.access_token_enc"):
        store.tokens.load("k")


def test_invalid_env_key_is_reported_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    good = Fernet.generate_key().decode()
    monkeypatch.setenv(SECRET_KEY_ENV, f"{good},not-a-key-hunter2")
    with (
        Store.open() as store,
        pytest.raises(StoreError, match="key 2 of CARTWIRE_SECRET_KEY") as raised,
    ):
        store.instances.add(make_record("a"))
    assert "hunter2" not in str(raised.value)
    assert good not in str(raised.value)


def test_lost_key_file_is_not_silently_replaced(home: Path) -> None:
    with Store.open() as store:
        store.instances.add(make_record("a"))
    (home / "secret.key").unlink()
    with Store.open() as store:
        with pytest.raises(KeyFileMissing, match="restore"):
            store.instances.get("a")
        with pytest.raises(KeyFileMissing):
            store.instances.add(make_record("b"))
        with pytest.raises(KeyFileMissing):
            store.encryption.rotate()
        with pytest.raises(KeyFileMissing):
            store.instances.all()
    assert not (home / "secret.key").exists()


def test_keyring_file_may_hold_several_keys_and_comments(home: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    home.mkdir(parents=True, exist_ok=True)
    (home / "secret.key").write_text(f"# mine\n{old.decode()}\n")
    with Store.open() as store:
        store.instances.add(make_record("old"))
    (home / "secret.key").write_text(f"\n{new.decode()}\n  \n# comment\n{old.decode()}\n")
    with Store.open() as store:
        store.instances.add(make_record("new"))
        assert store.instances.get("old").secrets == {"client_secret": secret_for("old")}
        assert store.instances.get("new").secrets == {"client_secret": secret_for("new")}


def test_empty_key_file_is_an_error(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "secret.key").write_text("# nothing here\n")
    with Store.open() as store, pytest.raises(StoreError, match="holds no key"):
        store.instances.add(make_record("a"))


def test_keyring_repr_does_not_show_keys(home: Path) -> None:
    ring = Keyring.load()
    assert ring.keys[0].decode() not in repr(ring)
    assert "1 keys" in repr(ring)


def test_encrypt_decrypt_and_rotate_token(home: Path) -> None:
    old = Keyring([Fernet.generate_key()])
    both = Keyring([Fernet.generate_key(), old.keys[0]])
    token = old.encrypt("clear")
    assert both.decrypt(token, column="c", instance=None) == "clear"
    rotated = both.rotate_token(token, column="c", instance=None)
    with pytest.raises(DecryptError, match="cannot decrypt c:"):
        old.decrypt(rotated, column="c", instance=None)
    assert Keyring(both.keys[:1]).decrypt(rotated, column="c", instance=None) == "clear"


def test_a_held_keyring_lock_times_out_with_a_clear_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartwire.store import locking

    with Store.open() as store:
        store.instances.add(make_record("a"))
        monkeypatch.setattr(locking, "LOCK_TIMEOUT_SECONDS", 0.2)
        with (
            store.encryption.keyring.lock(exclusive=True),  # as a rotation in another process would
            pytest.raises(StoreError, match="another cartwire process"),
        ):
            store.instances.add(make_record("b"))
        assert store.instances.get("a").secrets == {"client_secret": secret_for("a")}
        assert store.instances.names() == ["a"]
