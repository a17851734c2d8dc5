"""Records written to a stream as they arrive: JSON lines, one JSON array, or CSV.

All three write each record as soon as it is read, so `cartwire get` runs in constant memory
and a consumer downstream of a pipe starts at once. CSV needs its columns up front: they are the
flattened keys of the first batch of records (the first page), in order of appearance; keys
first seen later are left out, and a record missing a column leaves it empty. Booleans are
written `true`/`false` and nested lists/objects as JSON, so a CSV cell reads as the JSON value.
"""

import csv
import json
from typing import Any, Literal, TextIO

Format = Literal["jsonl", "json", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "json", "csv")


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted columns (`masterData.current.name.en`); lists stay JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        column = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, column + "."))
        elif isinstance(value, dict | list):
            flat[column] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, bool):  # as JSON spells them, which is what importers expect
            flat[column] = "true" if value else "false"
        else:
            flat[column] = value
    return flat


class RecordWriter:
    """Writes batches of records to `stream` in one format; `close()` ends the document."""

    def __init__(self, stream: TextIO, format: Format) -> None:
        self.stream = stream
        self.format = format
        self.written = 0
        self._csv: csv.DictWriter[str] | None = None

    def write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            if self.format == "jsonl":
                self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            elif self.format == "json":
                self.stream.write("[\n" if self.written == 0 else ",\n")
                self.stream.write(json.dumps(record, ensure_ascii=False))
            else:
                self._write_csv(record, records)
            self.written += 1
        self.stream.flush()

    def _write_csv(self, record: dict[str, Any], batch: list[dict[str, Any]]) -> None:
        if self._csv is None:
            columns: dict[str, None] = {}
            for first in batch:
                columns.update(dict.fromkeys(flatten(first)))
            self._csv = csv.DictWriter(
                self.stream, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
            )
            self._csv.writeheader()
        self._csv.writerow(flatten(record))

    def close(self) -> None:
        if self.format == "json":
            self.stream.write("[]\n" if self.written == 0 else "\n]\n")
        self.stream.flush()
