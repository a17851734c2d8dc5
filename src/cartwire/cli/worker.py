"""`cartwire worker`: a Celery worker that processes runs a slice at a time (docs/workers.md).

A foreground process, like `cartwire scheduler` (run it under systemd, a container or
`nohup`); start as many as the machines allow, against one store and one broker. SIGTERM or
Ctrl-C finishes the slices in hand and exits; a slice cut short by a harder stop is taken over
by another worker from its last checkpoint.
"""

from collections.abc import Callable
from importlib.util import find_spec
from typing import Annotated

import typer

from cartwire.cli.common import USAGE, errors_as_messages, fail


def _handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services.errors import NoBroker

    return {NoBroker: lambda exc: fail(str(exc), USAGE)}


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (default: one per CPU)."),
    ] = None,
    slice_pages: Annotated[
        int | None,
        typer.Option(min=1, help="Source pages a slice reads at most (default 5)."),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Cut a new full read into up to N shards, read at once (default 8; 1: never).",
        ),
    ] = None,
    shard_records: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Source records a shard holds at least: smaller reads stay whole (default 10000).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="The worker's node name (default cartwire-PID@HOST)."),
    ] = None,
) -> None:
    """Process queued runs (CARTWIRE_BROKER_URL), a few pages at a time, until stopped."""
    if find_spec("celery") is None:  # an optional dependency
        raise fail("cartwire worker needs Celery: pip install 'cartwire[celery]'")
    from cartwire.services.slices import SliceBudget
    from cartwire.workers.main import run_worker

    with errors_as_messages(_handlers):
        given = {"pages": slice_pages, "shards": shards, "shard_records": shard_records}
        budget = SliceBudget(**{key: value for key, value in given.items() if value is not None})
        run_worker(concurrency, budget, name)
