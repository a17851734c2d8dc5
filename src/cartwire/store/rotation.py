"""Re-encrypting every stored secret under a new key, safely against a crash at any moment.

With a key file the steps are ordered so that the file on disk always holds a key for every
stored value:

1. under the exclusive keyring lock, write the keyring [new, *old] (atomic replace + fsync);
2. re-encrypt every encrypted column in ONE database transaction (MultiFernet.rotate);
3. only after that commit, rewrite the keyring as [new].

A crash before 2 commits leaves the values under the old keys, which the file still holds; a
crash after it leaves them under the new key, which the file already holds. Writers of encrypted
values take the same lock shared, so none can commit under a key that step 3 is about to drop.

With CARTWIRE_SECRET_KEY there is no file to update: the values are re-encrypted under the new
key (or, without one, under the first key of the variable) and the user must then set the
variable to the new key. The rows change in one transaction, so they are all under the old key or
all under the new one; if the rotation was interrupted (or while processes still run with the old
variable), CARTWIRE_SECRET_KEY="new,old" reads both, and rotating again without a key finishes.
"""

from sqlalchemy import bindparam, select, text, update

from cartwire.store.engine import Sessions
from cartwire.store.models import ENCRYPTED_COLUMNS
from cartwire.store.secrets import Keyring, generate_key


def rotate(sessions: Sessions, keyring: Keyring, new_key: bytes | None) -> tuple[int, Keyring]:
    """Returns the number of values re-encrypted and the keyring to use from now on."""
    if keyring.from_env:
        staged = keyring.add_key(new_key) if new_key is not None else keyring
        return reencrypt_all(sessions, staged), staged
    with keyring.lock(exclusive=True):
        current = keyring.reload()  # another process may have rotated since we loaded it
        staged = current.add_key(new_key if new_key is not None else generate_key())
        count = reencrypt_all(sessions, staged)
        return count, staged.drop_old()


def reencrypt_all(sessions: Sessions, keyring: Keyring) -> int:
    """Re-encrypt every encrypted value under the keyring's newest key, in one transaction.

    On PostgreSQL the tables are locked against writers (readers carry on), so no row is written
    under an old key between our read and our commit by a process on another machine.
    """
    count = 0
    with sessions.write() as session:
        if session.get_bind().dialect.name == "postgresql":
            names = ", ".join(sorted({spec.table.name for spec in ENCRYPTED_COLUMNS}))
            session.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
        for spec in ENCRYPTED_COLUMNS:
            key_column = spec.table.c[spec.primary_key]
            value_column = spec.table.c[spec.column]
            rows = session.execute(
                select(key_column, value_column, spec.instance_name.label("owner"))
            ).all()
            updates = [
                {
                    "row_key": row[0],
                    "new_value": keyring.rotate_token(row[1], column=spec.label, instance=row[2]),
                }
                for row in rows
            ]
            if updates:
                statement = (
                    update(spec.table)
                    .where(key_column == bindparam("row_key"))
                    .values({spec.column: bindparam("new_value")})
                )
                session.connection().execute(statement, updates)
            count += len(updates)
    return count
