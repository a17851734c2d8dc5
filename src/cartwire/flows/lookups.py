"""Cross-reference lookup tables: two columns, a source value and the target value it maps to
(a supply channel key → a stock location code).

Transforms read tables through `LookupTables`, so the record processing stays pure: tests use
`MemoryLookups`, the runner backs the protocol with the resolved tables (`tables`). Tables move
in and out as CSV with the header `source,target`, the same two-column shape as a Patchworks
cross-reference table, so a table exported from one place imports into another.

The CSV format (`CSV_FORMAT`, shown by `cartwire lookups import --help` and docs/flows.md): UTF-8
(a byte order mark is allowed), comma-separated, quoted the usual way (`"a,b"`, `""` for a
quote); a first line `source,target` (case and surrounding spaces ignored); then one row of two
columns per entry, values taken exactly as written (spaces included); blank lines are skipped.
A blank source or target, a source given twice, a row of another width, a broken quote or a
file that is not UTF-8 rejects the whole file, every fault listed with its line.
"""

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Protocol

from cartwire.flows.schema_types import SLUG, SLUG_RULE

HEADER = ["source", "target"]
CSV_FORMAT = (
    "UTF-8 (a byte order mark is fine), comma-separated; the first line is the header "
    "`source,target`, then one row per entry: the value found in the records, then the value "
    "to write instead (e.g. `EUR,eur`). Values are taken exactly as written, spaces included; "
    'quote a value that holds a comma ("a,b"). Blank lines are skipped. A source given twice, '
    "a blank source or target, a row without exactly two columns, a broken quote or a file "
    "with no rows rejects the whole file."
)


def table_name_problem(table: str) -> str | None:
    """Why no flow could read a table of this name (flows name tables as slugs), or None."""
    if re.fullmatch(SLUG, table):
        return None
    return f'bad table name "{table}": {SLUG_RULE} (the name a flow\'s lookup transform gives)'


def fill_hint(table: str) -> str:
    """How a user fills `table`: the one command and the file it takes."""
    return (
        f"import it with `cartwire lookups import {table} FILE.csv` (a CSV file with the header "
        "source,target and one row per value: the value in the records, the value to write)"
    )


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


def read_csv(file: str | Path | IO[str]) -> dict[str, str]:
    """The rows of a `source,target` CSV; every fault (bad header, wrong column count, blank or
    duplicate source, blank target) is reported at once, by line, rather than importing half;
    a file that is not CSV at all (not UTF-8, a broken quote) stops at its first bad line."""
    return _rows(_text(file))


def _text(file: str | Path | IO[str]) -> str:
    """The file's text, decoded whole so that a byte that is not UTF-8 is found by its line."""
    if not isinstance(file, str | Path):
        return file.read()
    data = Path(file).read_bytes()
    try:
        return data.decode("utf-8-sig")  # spreadsheet programs write a byte order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LookupCsvError(
            [f"line {line}: not UTF-8 text ({exc.reason}); save the file as UTF-8"]
        ) from None


def _rows(text: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    records = _records(text)
    header = next(records, (1, []))[1]
    if [h.strip().lower() for h in header] != HEADER:
        got = ",".join(header) or "nothing"
        raise LookupCsvError([f"line 1: the header must be source,target (got {got})"])
    for line, row in records:
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
    if not rows:
        raise LookupCsvError(["line 2: no rows after the header; a table needs at least one"])
    return rows


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted value may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            unclosed = "unexpected end of data" in str(exc)
            reason = "a quote opened on this line is never closed" if unclosed else str(exc)
            raise LookupCsvError([f"line {start}: not valid CSV: {reason}"]) from None
        yield start, row


def write_csv(rows: Mapping[str, str], file: str | Path | IO[str]) -> None:
    """Write `rows` under the `source,target` header, in their order (`read_csv` reads it back)."""
    if isinstance(file, str | Path):
        with open(file, "w", encoding="utf-8", newline="") as handle:
            write_csv(rows, handle)
        return
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows.items())
