"""`cartwire lookups …`: the cross-reference tables flows translate values with."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from cartwire.cli.common import USAGE, JsonOption, emit_json, err, fail, out, services
from cartwire.cli.tables import Column, WideOption, print_table
from cartwire.services.lookups import CSV_FORMAT, LookupCsvError, read_csv, table_name_problem

app = typer.Typer(no_args_is_help=True, help="Lookup tables (source → target) used by flows.")


@app.command(
    "import",
    help="Replace a table with the rows of a CSV file: all of them, or nothing when any line is "
    f"bad (each bad line is listed). An imported table is used instead of a flow's own entries "
    f"for it (its `lookups:` defaults or derived entries).\n\nThe file: {CSV_FORMAT}",
)
def import_(
    table: Annotated[str, typer.Argument(help="Table name, e.g. channels-to-stock-locations.")],
    file: Annotated[Path, typer.Argument(help="CSV with a `source,target` header.")],
    as_json: JsonOption = False,
) -> None:
    bad_name = table_name_problem(table)
    if bad_name is not None:
        raise fail(bad_name, USAGE)
    if not file.is_file():
        raise fail(f"no file at {file}", USAGE)
    try:
        rows = read_csv(file)
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", USAGE) from None
    except LookupCsvError as exc:
        for problem in exc.problems:
            err.print(f"[red]error:[/red] {file}: {problem}", soft_wrap=True, markup=True)
        raise typer.Exit(USAGE) from None
    services().lookups.replace(table, rows)
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
    services().lookups.export(table, sys.stdout if file is None else file)


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """The tables and their sizes."""
    sizes = services().lookups.sizes()
    if as_json:
        emit_json(sizes)
        return
    print_table(
        (Column("table", give="shorten", shortest=20), Column("rows", numeric=True)),
        [[name, f"{count:,}"] for name, count in sorted(sizes.items())],
        wide=wide,
    )
