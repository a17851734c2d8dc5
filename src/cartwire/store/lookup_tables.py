"""Lookup tables: named maps from a source value to a destination value, used by mappings.

Their own part because a table is shared by every flow that names it and is replaced whole (a
CSV import, or entries a flow derives), never edited row by row.
"""

from sqlalchemy import delete, select

from cartwire.store.engine import Sessions
from cartwire.store.models import LookupRow


class LookupTables:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def replace(self, table: str, entries: dict[str, str]) -> None:
        """Replace a whole table at once (CSV import)."""
        with self._sessions.write() as session:
            session.execute(delete(LookupRow).where(LookupRow.table == table))
            session.add_all(LookupRow(table=table, source=k, target=v) for k, v in entries.items())

    def get(self, table: str) -> dict[str, str]:
        with self._sessions.read() as session:
            rows = session.scalars(select(LookupRow).where(LookupRow.table == table))
            return {r.source: r.target for r in rows}

    def sizes(self) -> dict[str, int]:
        with self._sessions.read() as session:
            rows = session.scalars(select(LookupRow))
            sizes: dict[str, int] = {}
            for row in rows:
                sizes[row.table] = sizes.get(row.table, 0) + 1
            return sizes
