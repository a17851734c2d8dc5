"""Where the runs a shell does not wait for are processed: in threads of this process (the
default, `InProcessDispatcher`), or on Celery workers once a broker is configured
(`CARTWIRE_BROKER_URL=redis://…` or `amqp://…`: `queue.CeleryDispatcher`).

Both start, resume and retry a run the same way and return its id once it is recorded (running
in a thread, or `queued` for the workers), after the same checks: a run that could only fail at
once is refused before it exists, as on the CLI. A deployment switches over by its environment
alone; the shells call `dispatcher_for` and never know which they got.
"""

import os
from importlib.util import find_spec
from typing import TYPE_CHECKING, Protocol

from cartwire.flows.background import Launched, Records
from cartwire.flows.catalog import FlowFile
from cartwire.flows.problems import FlowError
from cartwire.services.launcher import ThreadLauncher
from cartwire.store import Store
from cartwire.store.bindings import Binding
from cartwire.store.runs import Run

if TYPE_CHECKING:
    from cartwire.services.queue import CeleryDispatcher

BROKER_URL_ENV = "CARTWIRE_BROKER_URL"


class NoBroker(FlowError):
    """A run was to be queued, but no broker is configured."""

    def __init__(self) -> None:
        super().__init__(
            f"no queue to send the run to: set {BROKER_URL_ENV} (redis://HOST:6379/0 or "
            "amqp://USER:PASSWORD@HOST:5672//) here and for `cartwire worker`"
        )


class QueueUnavailable(FlowError):
    """The broker did not take a run's message (or Celery is not installed): the run was not
    queued."""


class Dispatcher(Protocol):
    def start(
        self,
        flow_file: FlowFile,
        source: str,
        destination: str,
        *,
        trigger: str,
        records: Records | None = None,
        full: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> int:
        """A new run of the flow between these instances (`FlowRunner.run` says what each
        argument does): its id once it is recorded, or why it could not start."""
        ...

    def resume(self, run: Run) -> int:
        """Continue an unfinished run from its last checkpoint."""
        ...

    def retry(self, run: Run) -> int:
        """A new run of only the records `run` failed on."""
        ...

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the runs this process is processing; True if none
        is left."""
        ...


class InProcessDispatcher:
    """Each run in a daemon thread of this process (`ThreadLauncher`), sharing one store; it
    returns once the run is recorded, however long that takes."""

    def __init__(self, store: Store) -> None:
        self._launcher = ThreadLauncher(store, start_timeout=None)

    def start(
        self,
        flow_file: FlowFile,
        source: str,
        destination: str,
        *,
        trigger: str,
        records: Records | None = None,
        full: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> int:
        launched = self._launcher.start(
            flow_file,
            source,
            destination,
            trigger=trigger,
            records=records,
            full=full,
            dry_run=dry_run,
            limit=limit,
        )
        return launched.run_id

    def resume(self, run: Run) -> int:
        return self._launcher.resume(run).run_id

    def retry(self, run: Run) -> int:
        return self._launcher.retry(run).run_id

    def join(self, timeout: float) -> bool:
        return self._launcher.join(timeout)


def broker_url() -> str | None:
    """The broker the deployment's workers take runs from, if it has any."""
    return os.environ.get(BROKER_URL_ENV) or None


def dispatcher_for(store: Store) -> Dispatcher:
    """Celery's when a broker is configured, else this process's threads."""
    if broker_url() is None:
        return InProcessDispatcher(store)
    return queue_of(store)


def queue_of(store: Store) -> "CeleryDispatcher":
    """The Celery dispatcher, whatever the default: `NoBroker` without a broker URL."""
    url = broker_url()
    if url is None:
        raise NoBroker()
    if find_spec("celery") is None:  # an optional dependency
        raise QueueUnavailable(
            f"{BROKER_URL_ENV} is set but Celery is not installed: pip install 'cartwire[celery]'"
        )
    from cartwire.services.queue import CeleryDispatcher

    return CeleryDispatcher(store, url)


class QueueLauncher:
    """The triggers' launcher (`flows.background.Launcher`: the scheduler, the webhook
    receiver) once a broker is configured: each run recorded `queued` and sent to the workers
    through the dispatcher, after the same checks (`RunBusy` …). Its `Launched` has no `done`:
    the workers process the run, so this process neither waits for its end nor stops it."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def __call__(
        self, flow_file: FlowFile, binding: Binding, *, trigger: str, records: Records | None = None
    ) -> Launched:
        run_id = self._dispatcher.start(
            flow_file, binding.source, binding.destination, trigger=trigger, records=records
        )
        return Launched(run_id, None)

    def resume(self, run: Run) -> Launched:
        return Launched(self._dispatcher.resume(run), None)

    def join(self, timeout: float) -> bool:
        return self._dispatcher.join(timeout)


def trigger_launcher(
    store: Store, start_timeout: float | None = 60.0
) -> ThreadLauncher | QueueLauncher:
    """How the scheduler and the webhook receiver start runs: queued for the workers when a
    broker is configured, else in threads of this process (a new run given `start_timeout`
    seconds to be recorded)."""
    if broker_url() is None:
        return ThreadLauncher(store, start_timeout)
    return QueueLauncher(queue_of(store))
