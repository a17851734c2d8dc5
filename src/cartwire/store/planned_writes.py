"""What a dry run would have written, for `runs show`: its first few records only.

Kept with the page that planned them (`runs.Runs.commit_page`), sealed like failed records and
without secret-named fields; capped at KEPT_CHANGES a run, enough to check a mapping by and
never a copy of the whole source.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions
from cartwire.store.models import RunChangeRow
from cartwire.store.payloads import seal
from cartwire.store.secrets import Keyring

# A dry run keeps what it would do to this many records (the first ones), for `runs show`.
KEPT_CHANGES = 200
CHANGES_COLUMN = "run_changes.payload_enc"


@dataclass(frozen=True)
class PlannedWrite:
    """What a dry run would do to one record: "create" it (`record`, as mapped; None where the
    caller has it already) or "update" the fields in `changes` (each {"field", "old", "new"})."""

    output: str
    key: str | None
    action: str
    record: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)


class PlannedWrites:
    def __init__(self, sessions: Sessions, encryption: Encryption) -> None:
        self._sessions = sessions
        self._encryption = encryption

    def of(self, run_id: int) -> list[PlannedWrite]:
        """The writes a dry run kept (its first KEPT_CHANGES), in the order it planned them."""
        with self._sessions.read() as session:
            rows = session.scalars(
                select(RunChangeRow).where(RunChangeRow.run_id == run_id).order_by(RunChangeRow.id)
            )
            sealed = [(r.output, r.key, r.action, r.payload_enc) for r in rows]
        planned = []
        for output, key, action, token in sealed:
            payload = json.loads(self._encryption.decrypt(token, CHANGES_COLUMN, None))
            planned.append(PlannedWrite(output, key, action, payload["record"], payload["changes"]))
        return planned


def keep(session: Session, keyring: Keyring, run_id: int, planned: list[PlannedWrite]) -> None:
    """Add planned writes inside the caller's transaction, up to KEPT_CHANGES for the run."""
    kept = session.scalar(
        select(func.count()).select_from(RunChangeRow).where(RunChangeRow.run_id == run_id)
    )
    for item in planned[: max(0, KEPT_CHANGES - (kept or 0))]:
        session.add(
            RunChangeRow(
                run_id=run_id,
                output=item.output,
                key=item.key,
                action=item.action,
                payload_enc=seal(keyring, {"record": item.record, "changes": item.changes}),
            )
        )
