"""The `cartwire` command line: a thin shell over the engine and the sandboxes."""

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from cartwire import __version__, logs
from cartwire.cli import (
    api,
    apikeys,
    connectors,
    flows,
    instances,
    lookups,
    pools,
    records,
    sandbox,
    scheduler,
    secrets,
    serve,
    users,
    webhooks,
    worker,
    workers,
)
from cartwire.cli.common import (
    JsonOption,
    emit_json,
    errors_as_messages,
    fail,
    out,
    services,
    show_warnings,
)
from cartwire.cli.progress import progress_bar
from cartwire.cli.tables import WideOption, print_table

if TYPE_CHECKING:
    from cartwire.services.runs import RunView

app = typer.Typer(
    no_args_is_help=True,
    help="cartwire: move products, prices, stock, customers and orders between platforms.",
)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(workers.app, name="workers")
app.add_typer(connectors.app, name="connectors")
app.add_typer(instances.app, name="instances")
app.add_typer(secrets.app, name="secrets")
app.add_typer(pools.app, name="pools")
app.add_typer(flows.app, name="flows")
app.add_typer(flows.runs_app, name="runs")
app.add_typer(lookups.app, name="lookups")
app.command("api")(api.api)
app.command("get")(records.get)
app.command("send")(records.send)
app.command("endpoints")(records.endpoints)
app.command("scheduler")(scheduler.scheduler)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(apikeys.app, name="apikeys")
app.add_typer(users.app, name="users")


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"cartwire {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _setup(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    logs.configure()
    show_warnings("cartwire.http.paging")  # how to fix a connector file's paging


@app.command()
def demo(
    products: Annotated[int, typer.Option(min=1, help="Products to seed (first run only).")] = 2000,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Run the flows on `cartwire worker` processes (CARTWIRE_BROKER_URL), one by one.",
        ),
    ] = False,
    wide: WideOption = False,
    as_json: JsonOption = False,
) -> None:
    """Sandboxes up and seeded, two instances, the prebuilt flows run between them."""
    from cartwire.demo import FLOWS, prepare, run_flow
    from cartwire.sandbox.processes import SandboxError
    from cartwire.services.errors import NoBroker

    with errors_as_messages(lambda: flows.handlers() | {SandboxError: lambda exc: fail(str(exc))}):
        service = services()
        if queue and not service.runs.on_workers():  # before the sandboxes start
            raise NoBroker()
        store = service.store
        say = (lambda _text: None) if as_json else out.print
        prepare(store, products, say)
        done: list[tuple[str, RunView]] = []
        for name, source, destination in FLOWS:
            with progress_bar(not as_json, name) as update:
                done.append((name, run_flow(store, name, source, destination, update, queue=queue)))
    if as_json:
        emit_json([{"flow": name, **flows.summary(run)} for name, run in done])
    else:
        print_table(
            DEMO_COLUMNS,
            [flows.run_row(run) for _, run in done],
            wide=wide,
            title="cartwire demo",
        )
        out.print(NEXT_STEPS)
    if any(run.status != "succeeded" for _, run in done):
        raise typer.Exit(1)


# What the demo shows comes first at 80 columns: how each flow did, what it read and wrote.
_DEMO_PRIORITY = {"duration": 1, "run": 2, "skipped": 3}
_DEMO_FIRST = ("flow", "status", "read", "created", "updated", "unchanged", "failed")
DEMO_COLUMNS = tuple(
    replace(c, priority=0 if c.header in _DEMO_FIRST else _DEMO_PRIORITY.get(c.header, 4))
    for c in flows.RUN_COLUMNS
)

NEXT_STEPS = """Try next:
  cartwire demo                       # again: incremental, writes nothing
  cartwire runs list                  # run history
  cartwire runs show RUN              # one run: counts, log, failures
  cartwire get sandbox-cl skus --limit 5
  cartwire flows show ct-products-to-cl-skus
  cartwire sandbox down               # stop the sandboxes"""


def main() -> None:
    app()
