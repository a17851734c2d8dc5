"""`cartwire lookups …`: the cross-reference tables flows translate values with."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from cartwire.cli.common import USAGE, JsonOption, emit_json, err, out
from cartwire.cli.tables import Column, WideOption, print_table
from cartwire.flows.lookups import LookupCsvError, read_csv, write_csv
from cartwire.store import Store
from cartwire.store.runs import Runs

app = typer.Typer(no_args_is_help=True, help="Lookup tables (source → target) used by flows.")


@app.command("import")
def import_(
    table: Annotated[str, typer.Argument(help="Table name, e.g. channels-to-stock-locations.")],
    file: Annotated[Path, typer.Argument(help="CSV with a `source,target` header.")],
    as_json: JsonOption = False,
) -> None:
    """Replace a table with the rows of a CSV file (all or nothing)."""
    if not file.is_file():
        err.print(f"[red]error:[/red] no file at {file}")
        raise typer.Exit(USAGE)
    try:
        rows = read_csv(file)
    except LookupCsvError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {file}: {problem}", soft_wrap=True)
        raise typer.Exit(USAGE) from None
    Runs(Store.open()).set_lookup_table(table, rows)
    if as_json:
        emit_json({"table": table, "rows": len(rows)})
    else:
        out.print(f"{table}: {len(rows)} rows")


@app.command()
def export(
    table: str,
    file: Annotated[Path | None, typer.Argument(help="Output file (default: stdout).")] = None,
) -> None:
    """Write a table as CSV."""
    rows = Runs(Store.open()).lookup_table(table)
    if file is None:
        write_csv(rows, sys.stdout)
    else:
        write_csv(rows, file)


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """The tables and their sizes."""
    sizes = Runs(Store.open()).lookup_tables()
    if as_json:
        emit_json(sizes)
        return
    print_table(
        (Column("table", give="shorten", shortest=20), Column("rows", numeric=True)),
        [[name, f"{count:,}"] for name, count in sorted(sizes.items())],
        wide=wide,
    )
