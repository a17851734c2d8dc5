"""Cross-reference lookup tables: two columns, a source value and the target value it maps to
(a commercetools channel key → a Commerce Layer stock location id).

Transforms read tables through `LookupTables`, so the record processing stays pure: tests use
`MemoryLookups`, the runner backs the protocol with the store. Tables move in and out as CSV
with the header `source,target`, the same two-column shape as a Patchworks cross-reference
table, so a table exported from one place imports into another.
"""

import csv
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

HEADER = ["source", "target"]


class LookupTables(Protocol):
    def get(self, table: str, key: str) -> str | None:
        """The target for `key` in `table`; None when the table or the key is absent."""
        ...


class MemoryLookups:
    """Tables held in memory: `MemoryLookups({"channels-to-stock-locations": {"ch-1": "LOC1"}})`."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.tables = {name: dict(rows) for name, rows in (tables or {}).items()}

    def get(self, table: str, key: str) -> str | None:
        return self.tables.get(table, {}).get(key)


class LookupCsvError(ValueError):
    """A CSV table that cannot be imported; `problems` has one line per fault, with line numbers."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@contextmanager
def _opened(file: str | Path | IO[str], mode: str) -> Iterator[IO[str]]:
    if isinstance(file, str | Path):
        # utf-8-sig: spreadsheet programs write a byte order mark; newline="": csv handles quotes.
        with open(file, mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="") as f:
            yield f
    else:
        yield file


def read_csv(file: str | Path | IO[str]) -> dict[str, str]:
    """The rows of a `source,target` CSV; every fault (bad header, wrong column count, blank or
    duplicate source, blank target) is reported at once, by line, rather than importing half."""
    rows: dict[str, str] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    with _opened(file, "r") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header] != HEADER:
            got = ",".join(header) if header else "nothing"
            raise LookupCsvError([f"line 1: the header must be source,target (got {got})"])
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != 2:
                problems.append(f"line {line}: expected 2 columns (source,target), got {len(row)}")
                continue
            source, target = row
            if not source.strip():
                problems.append(f"line {line}: blank source")
            elif not target.strip():
                problems.append(f'line {line}: blank target for source "{source}"')
            elif source in rows:
                problems.append(
                    f'line {line}: duplicate source "{source}" (first on line {first_line[source]})'
                )
            else:
                rows[source] = target
                first_line[source] = line
    if problems:
        raise LookupCsvError(problems)
    return rows


def write_csv(rows: Mapping[str, str], file: str | Path | IO[str]) -> None:
    """Write `rows` under the `source,target` header, in their order (`read_csv` reads it back)."""
    with _opened(file, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows.items())
