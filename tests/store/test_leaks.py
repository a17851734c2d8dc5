"""Secrets stay out of reprs, exception messages and logs."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from cartwire.store import CachedToken, DecryptError, InstanceExists, InvalidRecord, Store
from cartwire.store.secrets import SECRET_KEY_ENV
from tests.store.helpers import make_record, secret_for, token_for


def test_instance_repr_masks_secret_values_but_names_the_fields() -> None:
    record = make_record("shop", secrets={"client_secret": "hunter2", "api_key": "swordfish"})
    for text in (repr(record), str(record), f"{record}", repr([record])):
        assert "hunter2" not in text
        assert "swordfish" not in text
        assert "'client_secret': '***'" in text
        assert "'api_key': '***'" in text
        assert "client-shop" in text  # settings are not secret


def test_token_repr_masks_the_access_token() -> None:
    now = datetime.now(UTC)
    token = CachedToken("eyJ-hunter2", now, "scope", now)
    assert "hunter2" not in repr(token)
    assert "'***'" in repr(token)
    assert "scope" in repr(token)


def test_stored_records_mask_too(store: Store) -> None:
    store.instances.add(make_record("shop"))
    assert secret_for("shop") not in repr(store.instances.get("shop"))
    assert secret_for("shop") not in repr(store.instances.all())


def test_error_messages_carry_no_secrets(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.instances.add(make_record("shop"))
    messages = []
    with pytest.raises(InstanceExists) as exists:
        store.instances.add(make_record("shop"))
    messages.append(str(exists.value))
    with pytest.raises(InvalidRecord) as invalid:
        store.instances.add(make_record("bad", secrets={"client_secret": 12345}))  # type: ignore[dict-item]
    messages.append(str(invalid.value))
    monkeypatch.setenv(SECRET_KEY_ENV, Fernet.generate_key().decode())
    url = store.engine.url.render_as_string(hide_password=False)
    with Store.open(url) as wrong, pytest.raises(DecryptError) as undecryptable:
        wrong.instances.get("shop")
    messages.append(str(undecryptable.value))
    for message in messages:
        assert secret_for("shop") not in message
        assert "12345" not in message
        assert "gAAAAA" not in message  # nor the encrypted value


def test_logs_carry_no_secrets_even_at_debug(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        with Store.open(db_url) as store:
            store.instances.add(make_record("shop"))
            now = datetime.now(UTC)
            token = CachedToken(token_for("shop"), now + timedelta(hours=1), None, now)
            store.tokens.save("k", "shop", token)
            store.instances.get("shop")
            store.tokens.load("k")
            store.encryption.rotate()
            with pytest.raises(InstanceExists):
                store.instances.add(make_record("shop"))
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "INSERT INTO instances" in logged  # SQL was logged...
    assert secret_for("shop") not in logged  # ...but no secret
    assert token_for("shop") not in logged
    assert "gAAAAA" not in logged  # nor encrypted values: parameters are hidden
