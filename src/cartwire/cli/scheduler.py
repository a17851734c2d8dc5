"""`cartwire scheduler`: run enabled flows when their `schedule` triggers come due.

A foreground process (run it under systemd, a container or `nohup`); several may run against
one store and each slot still runs once (see `cartwire.flows.scheduler` for every rule).
SIGTERM or Ctrl-C asks the runs in flight to stop at their next page and waits `--grace`
seconds for them; a second signal stops waiting.
"""

import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from cartwire.cli.common import FAILED, JsonOption, errors_as_messages, fail, out, services

if TYPE_CHECKING:
    from cartwire.services.scheduling import Event


def _handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services.errors import StoreError

    return {StoreError: lambda exc: fail(str(exc), FAILED)}


def _line(event: "Event") -> str:
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    parts = [at, event.action]
    if event.flow:
        parts.append(event.flow)
    if event.slot is not None:
        parts.append(f"slot {event.slot:%Y-%m-%d %H:%M}Z")
    if event.run_id is not None:
        parts.append(f"run {event.run_id}")
    if event.status:
        parts.append(event.status)
    if event.counts:
        parts.append(", ".join(f"{k} {v:,}" for k, v in event.counts.items()))
    if event.message:
        parts.append(f"({event.message})")
    return " ".join(parts)


def scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="One pass: start what is due, wait for it, exit.")
    ] = False,
    poll: Annotated[
        float,
        typer.Option(
            min=0.1, help="Longest wait (seconds) before bindings and flow files are read again."
        ),
    ] = 30.0,
    grace: Annotated[
        float,
        typer.Option(
            min=0, help="On SIGTERM/SIGINT, seconds to wait for runs to stop at a page boundary."
        ),
    ] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Run enabled flows whose schedule (cron, UTC) came due; each slot once, even across
    restarts and several schedulers. Prints one line per event (JSON Lines with --json)."""
    stop, force = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        (force if stop.is_set() else stop).set()

    failed: list[Event] = []

    def emit(event: "Event") -> None:
        if event.action == "error" or (
            event.action == "finished" and event.status not in ("succeeded", None)
        ):
            failed.append(event)
        if as_json:
            print(json.dumps(event.document(), ensure_ascii=False), flush=True)
        else:
            out.print(_line(event), soft_wrap=True, markup=False)
            sys.stdout.flush()

    with errors_as_messages(_handlers):
        from cartwire.services.scheduling import serve_schedules

        store = services().store
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            serve_schedules(store, stop, emit, poll=poll, grace=grace, once=once, force=force)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    if once and failed:
        raise typer.Exit(FAILED)
