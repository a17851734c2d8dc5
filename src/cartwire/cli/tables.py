"""Tables that fit the terminal (80 columns too) instead of squeezing every column to a few
garbled letters, and `--wide` for all of them at full width.

Each column says how important it is and how it may give way: never (ids, counts, statuses),
by wrapping at spaces (descriptions, times, "a → b"; a word longer than `shortest` is folded),
by folding anywhere (URLs, values that must be seen whole) or by shortening with "…" down to
`shortest` (long names). The most important columns are placed first, each one only if it
still fits at its narrowest; what is left over widens the ones that gave way. Columns that did
not fit are named under the table, with how to see them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cartwire.cli.common import out

WideOption = Annotated[
    bool, typer.Option("--wide", help="Every column, names in full (lines may be long).")
]

Give = Literal["no", "wrap", "fold", "shorten"]
EDGE = 1  # the table's left border
PER_COLUMN = 3  # a column's padding (one each side) and its right border


@dataclass(frozen=True)
class Column:
    header: str
    priority: int = 0  # 0 is shown first; higher numbers are left out first
    give: Give = "no"
    shortest: int = 12  # for "shorten" and "fold": the narrowest it may get
    numeric: bool = False


# A two-column listing without headers (a record's fields): values are shown whole.
KEY_VALUE = (Column(""), Column("", give="fold", shortest=20))


def _natural(column: Column, cells: list[str]) -> int:
    return max(len(line) for text in [column.header, *cells] for line in text.splitlines() or [""])


def _narrowest(column: Column, cells: list[str], natural: int) -> int:
    if column.give == "wrap":
        longest = max((len(word) for text in cells for word in text.split()), default=0)
        heading = max((len(word) for word in column.header.split()), default=0)
        return max(min(longest, column.shortest), heading)
    if column.give in ("shorten", "fold"):
        return min(natural, max(column.shortest, len(column.header)))
    return natural


def _fit(
    columns: Sequence[Column], rows: list[list[str]], width: int
) -> tuple[list[int], dict[int, int]]:
    """Which columns to show (their indexes, in table order) and at what widths."""
    cells = [[row[i] for row in rows] for i in range(len(columns))]
    natural = [_natural(c, cells[i]) for i, c in enumerate(columns)]
    narrowest = [_narrowest(c, cells[i], natural[i]) for i, c in enumerate(columns)]
    room = width - EDGE
    chosen: list[int] = []
    for i in sorted(range(len(columns)), key=lambda i: columns[i].priority):
        if narrowest[i] + PER_COLUMN <= room or not chosen:
            chosen.append(i)
            room -= narrowest[i] + PER_COLUMN
    widths = {i: narrowest[i] for i in chosen}
    # The room left goes first to columns that cut their text (a name shortened, a URL
    # folded), the most important first; then to those that wrap at spaces, the most
    # important first and evenly among equals.
    for i in (i for i in chosen if columns[i].give in ("shorten", "fold")):
        more = min(max(room, 0), natural[i] - widths[i])
        widths[i] += more
        room -= more
    for priority in sorted({columns[i].priority for i in chosen}):
        growing = [i for i in chosen if columns[i].priority == priority]
        while room > 0 and (growing := [i for i in growing if widths[i] < natural[i]]):
            for i in growing[:room]:
                widths[i] += 1
                room -= 1
    return sorted(chosen), widths


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str | Text]],
    *,
    wide: bool = False,
    title: str | None = None,
    header: bool = True,
) -> None:
    """Print `rows` under `columns` on stdout, fitted to its width unless `wide`."""
    plain = [[cell.plain if isinstance(cell, Text) else cell for cell in row] for row in rows]
    if wide:
        shown = list(range(len(columns)))
        widths = {i: _natural(columns[i], [row[i] for row in plain]) for i in shown}
    else:
        shown, widths = _fit(columns, plain, out.width)
    table = Table(title=title, title_justify="left", show_header=header)
    for i in shown:
        column = columns[i]
        table.add_column(
            column.header,
            width=widths[i],
            no_wrap=column.give in ("no", "shorten"),
            overflow="ellipsis" if column.give == "shorten" else "fold",
            justify="right" if column.numeric else "left",
        )
    for row in rows:  # text as given: a name with [brackets] is not markup
        table.add_row(*(row[i] if isinstance(row[i], Text) else Text(str(row[i])) for i in shown))
    if wide:  # lines as long as the columns need, wider than the terminal if so
        total = EDGE + sum(widths[i] + PER_COLUMN for i in shown)
        Console(width=max(total, out.width), highlight=False, file=out.file).print(table)
    else:
        out.print(table)
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    if left_out:
        out.print(f"(not shown: {', '.join(left_out)}; --wide shows every column)")
