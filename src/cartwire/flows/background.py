"""How the triggers (scheduler, webhooks) start a run without waiting for it to end.

Both need a run started elsewhere (`cartwire.services.launcher.ThreadLauncher` runs it in a
thread; with a broker, `cartwire.services.dispatch.QueueLauncher` queues it for the workers) and
told at once whether it started: the scheduler must not block its loop on one long
run, and a webhook sender wants its 2xx within seconds while still being told the run's id, or
that the binding is busy. `Launcher` is the seam the triggers call; tests of their decisions
can pass their own.
"""

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from cartwire.flows.catalog import FlowFile
from cartwire.store.bindings import Binding
from cartwire.store.runs import Run

Records = list[dict[str, Any]]


@dataclass
class Launched:
    """A run that has started: its id now, its end (a finished `Run`, or the error) later, or
    `done` None for a run queued for the workers, whose end this process does not wait for."""

    run_id: int
    done: "Future[Run] | None"
    thread: threading.Thread | None = field(default=None, repr=False)


class Launcher(Protocol):
    def __call__(
        self, flow_file: FlowFile, binding: Binding, *, trigger: str, records: Records | None = None
    ) -> Launched:
        """Start a run of the flow between the binding's instances; raises `RunBusy` (or any
        other reason it could not start) before returning."""
        ...
