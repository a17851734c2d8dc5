"""`cartwire workers status`: the deployment's Celery workers as they answer now, the messages
waiting in its queue, and the runs its store has queued and running (docs/workers.md)."""

from collections.abc import Callable
from importlib.util import find_spec
from typing import Annotated

import typer

from cartwire.cli.common import (
    USAGE,
    JsonOption,
    emit_json,
    errors_as_messages,
    fail,
    out,
    services,
)
from cartwire.cli.tables import Column, WideOption, print_table

app = typer.Typer(no_args_is_help=True, help="The Celery workers of a deployment.")


def _handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services.errors import NoBroker, QueueUnavailable

    return {
        NoBroker: lambda exc: fail(str(exc), USAGE),
        QueueUnavailable: lambda exc: fail(str(exc)),
    }


@app.command("status")
def status(
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for the workers' answers.")
    ] = 2.0,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Which workers answer, what each is processing, and how many slices wait in the queue."""
    if find_spec("celery") is None:  # an optional dependency
        raise fail("cartwire workers needs Celery: pip install 'cartwire[celery]'")
    with errors_as_messages(_handlers), services() as service:
        found = service.workers_status(timeout)
    if as_json:
        emit_json(found.model_dump())
        return
    out.print(
        f"queue {found.queue} on {found.broker}: {found.waiting} slice(s) waiting; runs "
        f"queued {found.runs['queued']}, running {found.runs['running']}",
        soft_wrap=True,
        markup=False,
    )
    if not found.workers:
        out.print("no worker answered: start one with `cartwire worker`")
        return
    print_table(
        (
            Column("worker", give="shorten", shortest=16),
            Column("processing", priority=1, give="wrap"),
            Column("slices done", priority=2),
        ),
        [
            [worker.name, ", ".join(worker.active) or "idle", str(worker.processed)]
            for worker in found.workers
        ],
        wide=wide,
    )
