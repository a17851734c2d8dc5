"""Lookup tables (source value → target value) that flows translate with, imported whole from
CSV and read back; parsing and writing CSV is here too, so a shell only moves the bytes."""

from pathlib import Path
from typing import IO, TYPE_CHECKING

from cartwire.flows.lookups import (
    CSV_FORMAT,
    LookupCsvError,
    read_csv,
    table_name_problem,
    write_csv,
)

if TYPE_CHECKING:  # light to import: the CLI reads CSV_FORMAT for its help text
    from cartwire.store import Store


class LookupService:
    def __init__(self, store: "Store") -> None:
        self._store = store

    def replace(self, table: str, rows: dict[str, str]) -> int:
        """The table becomes exactly `rows` (a flow then uses it instead of its own entries)."""
        self._store.lookup_tables.replace(table, rows)
        return len(rows)

    def get(self, table: str) -> dict[str, str]:
        return self._store.lookup_tables.get(table)

    def sizes(self) -> dict[str, int]:
        """Every table and how many rows it holds."""
        return self._store.lookup_tables.sizes()

    def export(self, table: str, file: Path | IO[str]) -> None:
        write_csv(self.get(table), file)


__all__ = [
    "CSV_FORMAT",
    "LookupCsvError",
    "LookupService",
    "read_csv",
    "table_name_problem",
]
