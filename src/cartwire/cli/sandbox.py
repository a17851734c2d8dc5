"""`cartwire sandbox …`: run both platforms locally."""

import sys
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from cartwire.cli.common import USAGE, JsonOption, emit_json, err, fail, out
from cartwire.cli.tables import KEY_VALUE, Column, print_table
from cartwire.sandbox import manager
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.processes import SandboxError

app = typer.Typer(no_args_is_help=True, help="Run commercetools and Commerce Layer locally.")


def _credentials_table(state: dict[str, manager.Sandbox]) -> None:
    for platform, creds in manager.credentials_document(state).items():
        print_table(KEY_VALUE, list(map(list, creds.items())), title=platform, header=False)


@app.command()
def up(
    as_json: JsonOption = False,
    ct_port: Annotated[int | None, typer.Option(help="commercetools port (default: free)")] = None,
    cl_port: Annotated[int | None, typer.Option(help="Commerce Layer port (default: free)")] = None,
    cl_rate_limits: Annotated[
        str, typer.Option(help="Commerce Layer rate limits: test, live or off.")
    ] = "test",
) -> None:
    """Start both sandboxes in the background (or report the running ones)."""
    options = manager.Options(ct_port=ct_port, cl_port=cl_port, cl_rate_limits=cl_rate_limits)
    try:
        state = manager.up(options)
    except SandboxError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        emit_json(manager.credentials_document(state))
        return
    _credentials_table(state)
    out.print(
        "Token endpoint: {auth_url}/oauth/token · commercetools resources: "
        "{api_url}/{project_key}/ · Commerce Layer resources: {api_url}/api/"
    )


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Say which sandboxes run, where, and with which process."""
    state = manager.load_state()
    report: dict[str, dict[str, str | int | bool | None]] = {}
    for platform in manager.PLATFORMS:
        sandbox = state.get(platform)
        report[platform] = {
            "running": sandbox is not None and sandbox.running(),
            "url": sandbox.url if sandbox else None,
            "pid": sandbox.pid if sandbox else None,
            "log": sandbox.log if sandbox else None,
        }
    if as_json:
        emit_json(report)
        return
    print_table(
        (
            Column("platform"),
            Column("state"),
            Column("url", priority=1, give="fold"),
            Column("pid", priority=2, numeric=True),
            Column("log", priority=3, give="fold"),
        ),
        [
            [
                platform,
                Text("running", "green") if entry["running"] else Text("stopped", "red"),
                *(str(entry[k] or "") for k in ("url", "pid", "log")),
            ]
            for platform, entry in report.items()
        ],
    )


@app.command()
def down(as_json: JsonOption = False) -> None:
    """Stop exactly the sandbox processes `up` started."""
    stopped = manager.down()
    if as_json:
        emit_json({"stopped": stopped})
    else:
        out.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@app.command()
def seed(
    products: Annotated[int, typer.Option(min=0, help="commercetools products.")] = 1000,
    customers: Annotated[int, typer.Option(min=0, help="commercetools customers.")] = 200,
    orders: Annotated[int, typer.Option(min=0, help="commercetools orders.")] = 100,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Replace existing data without asking.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """REPLACE the sandboxes' data with a realistic, deterministic sample business.

    Seeding does not add to what is there: both sandboxes are first reset to their empty
    baseline, so records you created in them are gone. When they hold data, it asks first
    (at a terminal), or needs --yes."""
    state = manager.load_state()
    missing = [p for p in manager.PLATFORMS if p not in state or not state[p].running()]
    if missing:
        raise fail(f"{' and '.join(missing)} not running; start them with `cartwire sandbox up`")
    ct, cl = state[manager.COMMERCETOOLS], state[manager.COMMERCELAYER]
    from cartwire.sandbox.seed import existing_records
    from cartwire.sandbox.seed import seed as seed_sandboxes

    held = existing_records(ct, cl)
    if held and not yes:
        what = ", ".join(f"{n:,} {kind}" for kind, n in held.items())
        question = f"the sandboxes hold {what}; seeding replaces all of it"
        if not sys.stdin.isatty():
            raise fail(f"{question}: add --yes to replace it", USAGE)
        if not typer.confirm(f"{question}. Replace?", default=False, err=True):
            raise fail("nothing changed", USAGE)
    catalogue = Catalogue(seed_value, products, customers, orders)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(kind: str, n: int) -> None:
            if kind not in tasks:
                total = products if kind == "commercetools product" else None
                tasks[kind] = bar.add_task(kind, total=total)
            bar.advance(tasks[kind], n)

        try:
            report = seed_sandboxes(catalogue, ct, cl, tick)
        except RuntimeError as exc:
            raise fail(str(exc)) from exc
    if as_json:
        emit_json({"counts": report.counts, "seconds": report.seconds})
        return
    for platform, counts in report.counts.items():
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        out.print(f"{platform}: {summary} in {report.seconds[platform]:.1f} s")
