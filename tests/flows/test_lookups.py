"""Lookup tables: the in-memory implementation, and CSV import/export with every bad line named."""

import io
from pathlib import Path

import pytest

from cartwire.flows import LookupCsvError, MemoryLookups, read_csv, write_csv


def test_memory_lookups() -> None:
    lookups = MemoryLookups({"channels-to-stock-locations": {"ch-eu": "LOC-EU"}})
    assert lookups.get("channels-to-stock-locations", "ch-eu") == "LOC-EU"
    assert lookups.get("channels-to-stock-locations", "ch-us") is None
    assert lookups.get("no-such-table", "ch-eu") is None


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = {"ch-eu": "LOC-EU", "a,comma": 'a "quote"', "spaces ": " kept", "ümlaut": "ß"}
    path = tmp_path / "table.csv"
    write_csv(rows, path)
    assert path.read_text(encoding="utf-8").splitlines()[:2] == ["source,target", "ch-eu,LOC-EU"]
    assert read_csv(path) == rows
    assert list(read_csv(path)) == list(rows)  # order kept
    buffer = io.StringIO()
    write_csv(rows, buffer)
    assert read_csv(io.StringIO(buffer.getvalue())) == rows


def test_a_spreadsheet_export_with_a_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes("\ufeffSource, Target\r\nch-eu,LOC-EU\r\n\r\nch-us,LOC-US\r\n".encode())
    assert read_csv(path) == {"ch-eu": "LOC-EU", "ch-us": "LOC-US"}


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = (
        "source,target\n"
        "ch-eu,LOC-EU\n"  # line 2
        ",LOC-X\n"
        "ch-us,\n"
        "ch-eu,LOC-EU-2\n"
        "a,b,c\n"
        "lonely\n"
        '"multi\nline",ok\n'  # lines 8-9
        "ch-eu,again\n"
    )
    with pytest.raises(LookupCsvError) as raised:
        read_csv(io.StringIO(text))
    assert raised.value.problems == [
        "line 3: blank source",
        'line 4: blank target for source "ch-us"',
        'line 5: duplicate source "ch-eu" (first on line 2)',
        "line 6: expected 2 columns (source,target), got 3",
        "line 7: expected 2 columns (source,target), got 1",
        'line 10: duplicate source "ch-eu" (first on line 2)',
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "line 1: the header must be source,target (got nothing)"),
        (
            "left_value,right_value\na,b\n",
            "line 1: the header must be source,target (got left_value,right_value)",
        ),
        ("a,b\n", "line 1: the header must be source,target (got a,b)"),
    ],
)
def test_the_header_is_required(text: str, problem: str) -> None:
    with pytest.raises(LookupCsvError) as raised:
        read_csv(io.StringIO(text))
    assert raised.value.problems == [problem]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"source,target\na,1\n\xe9t\xe9,2\n", "line 3: not UTF-8 text"),
        (b'source,target\na,1\n"b,2\nc,3\n', "line 3: not valid CSV: a quote opened on this line"),
        (b'source,target\n"a"x,1\n', "line 2: not valid CSV: ',' expected after '\"'"),
        (b"source,target\n\n", "line 2: no rows after the header"),
    ],
)
def test_a_file_that_is_not_a_table_says_where(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(LookupCsvError) as raised:
        read_csv(path)
    [found] = raised.value.problems
    assert found.startswith(problem), found
