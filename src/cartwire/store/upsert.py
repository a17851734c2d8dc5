"""Insert-or-overwrite by primary key as ONE statement on every backend.

Several processes save tokens, pool sizes and webhook secrets at once; a read-then-write would
let two of them both insert and one fail on the key, so each dialect's own upsert is used.
"""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cartwire.store.models import InstanceCheckRow, PoolRow, TokenRow, WebhookSecretRow


def upsert(
    session: Session,
    model: type[TokenRow] | type[PoolRow] | type[WebhookSecretRow] | type[InstanceCheckRow],
    key: str,
    values: dict[str, Any],
) -> None:
    """Insert a row or overwrite the one with the same primary key `key`, in one statement."""
    changes = {column: value for column, value in values.items() if column != key}
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        lite = sqlite.insert(model).values(values)
        session.execute(lite.on_conflict_do_update(index_elements=[key], set_=changes))
    elif dialect == "postgresql":
        pg = postgresql.insert(model).values(values)
        session.execute(pg.on_conflict_do_update(index_elements=[key], set_=changes))
    else:
        existing = session.get(model, values[key], with_for_update=True)
        if existing is None:
            session.add(model(**values))
        else:
            for column, value in changes.items():
                setattr(existing, column, value)
