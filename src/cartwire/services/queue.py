"""Runs on Celery workers: the queue's configuration, shared by whoever sends to it (`flows run
--queue`, the HTTP server's runs) and by the workers (`cartwire.workers`), and the dispatcher
that records a run `queued` and sends its first slice.

A message is one slice of one run (`slices`), never a whole run, and the store, not the queue,
says who may process it (`store.runs.take_slice`), so the queue only has to deliver each
message at least once. The settings ask exactly that of Celery:

- `task_acks_late`: a message is acknowledged when its slice is done, not when it arrives, so
  the message of a worker that died is delivered again;
- `task_reject_on_worker_lost`: ... also when the worker's process was killed (SIGKILL, out of
  memory), instead of being acknowledged as failed;
- `worker_prefetch_multiplier=1`: a worker process holds one message at a time, so a long slice
  does not keep other slices waiting behind it while other workers are idle;
- Redis's `visibility_timeout` (VISIBILITY_TIMEOUT): a message not acknowledged within it is
  given to another worker. It is far longer than any slice (SLICE_SECONDS, plus one page), so
  a slice still being processed is not delivered again; were it to be, the copy is refused.
"""

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery
from kombu.exceptions import KombuError
from pydantic import BaseModel

from cartwire.flows.background import Records
from cartwire.flows.catalog import FlowFile
from cartwire.flows.runner import FlowRunner
from cartwire.services.clients import opener
from cartwire.services.dispatch import QueueUnavailable
from cartwire.services.slices import SLICE_SECONDS
from cartwire.store import Store
from cartwire.store.runs import Run

SLICE_TASK = "cartwire.slice"
SWEEP_TASK = "cartwire.sweep"  # queue again the slices lost with their workers
QUEUE_ENV = "CARTWIRE_QUEUE"
DEFAULT_QUEUE = "cartwire"
# An hour: 60 times a slice's time budget, so only a message whose worker is gone comes again.
VISIBILITY_TIMEOUT = 60 * SLICE_SECONDS  # seconds


def queue_name() -> str:
    """The queue this deployment's runs go through (CARTWIRE_QUEUE), so that deployments can
    share one broker."""
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


def celery_app(broker_url: str) -> Celery:
    """A Celery app on `broker_url` with the settings the module's docstring explains."""
    app = Celery("cartwire", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue=queue_name(),
        # The store keeps every outcome; messages are plain JSON (never pickle).
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        enable_utc=True,
    )
    return app


class SliceSender:
    """Sends the message of one slice of a run."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._queue = app.conf.task_default_queue

    def __call__(self, run_id: int, number: int) -> None:
        self._app.send_task(
            SLICE_TASK, args=[run_id, number], queue=self._queue, task_id=_task_id(run_id, number)
        )


def _task_id(run_id: int, number: int) -> str:
    """Names the slice in the workers' logs; the same slice sent again has the same id."""
    return f"run-{run_id}-slice-{number}"


class CeleryDispatcher:
    """Records each run `queued` and sends its first slice to the workers (`Dispatcher`)."""

    def __init__(self, store: Store, broker_url: str) -> None:
        self._store = store
        self._send = SliceSender(celery_app(broker_url))

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
        runner = FlowRunner(
            self._store,
            flow_file.flow,
            flow_file.text,
            source,
            destination,
            open=opener(self._store),
        )
        return self.queued(
            runner.queue(trigger=trigger, records=records, full=full, dry_run=dry_run, limit=limit)
        )

    def resume(self, run: Run) -> int:
        """Queue an unfinished run again at a new slice (its checkpoint is where it goes on)."""
        try:
            return self._store.runs.requeue(run.id, lambda number: self._send(run.id, number)).id
        except (KombuError, OSError) as exc:
            raise QueueUnavailable(f"run {run.id} was not resumed: {_reason(exc)}") from exc

    def retry(self, run: Run) -> int:
        runner = FlowRunner.from_run(self._store, run, opener(self._store))
        return self.queued(runner.queue_retry(run.id))

    def queued(self, run: Run) -> int:
        """Send the first slice of a run just recorded `queued`. A run whose message the broker
        did not take ends `failed`, saying so, rather than wait for a message that never comes
        (a new run's row is committed before its message goes out: a worker must find it)."""
        try:
            self._send(run.id, run.slice_no)
        except (KombuError, OSError) as exc:
            reason = f"could not be queued: {_reason(exc)}"
            self._store.runs.finish(run.id, "failed", error=reason, failure_kind="transient")
            raise QueueUnavailable(f"run {run.id} {reason}") from exc
        return run.id

    def join(self, timeout: float) -> bool:
        """The workers process the runs, not this process: nothing to wait for."""
        return True


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class WorkerView(BaseModel):
    name: str
    active: list[str]  # the slices it is processing now, by task id (run-N-slice-M)
    processed: int  # slices since it started


class QueueStatus(BaseModel):
    """What `cartwire workers status` shows: the workers that answered, the messages waiting
    in the deployment's queue, and the runs the store has queued and running."""

    broker: str  # without its password
    queue: str
    waiting: int
    workers: list[WorkerView]
    runs: dict[str, int]  # queued, running


def queue_status(store: Store, broker_url: str, timeout: float = 2.0) -> QueueStatus:
    """Ask every worker (a broadcast that waits `timeout` seconds for answers) and the broker
    (how many messages wait in the queue: a passive declare, which changes nothing)."""
    app = celery_app(broker_url)
    try:
        inspect = app.control.inspect(timeout=timeout)
        answered: dict[str, Any] = inspect.ping() or {}
        active: dict[str, Any] = inspect.active() or {}
        stats: dict[str, Any] = inspect.stats() or {}
        waiting = _waiting(app)
    except (KombuError, OSError) as exc:
        raise QueueUnavailable(f"the broker did not answer: {_reason(exc)}") from exc
    workers = [
        WorkerView(
            name=name,
            active=[task["id"] for task in active.get(name, [])],
            processed=sum(stats.get(name, {}).get("total", {}).values()),
        )
        for name in sorted(answered)
    ]
    counted = store.run_history.by_status()
    return QueueStatus(
        broker=_without_password(broker_url),
        queue=queue_name(),
        waiting=waiting,
        workers=workers,
        runs={status: counted.get(status, 0) for status in ("queued", "running")},
    )


def _waiting(app: Celery) -> int:
    """Messages in the queue; 0 for a queue no worker or sender has declared yet."""
    with app.connection_for_read() as connection:
        channel: Any = connection.default_channel  # kombu's channels all declare queues
        try:
            declared = channel.queue_declare(queue_name(), passive=True)
        except connection.channel_errors:
            return 0
        return int(declared.message_count)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
