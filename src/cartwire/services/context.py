"""`Services`: what a shell (the CLI, the webhook receiver, next the HTTP API and the workers)
holds to do anything with the store, instances, flows and runs.

The store is opened on first use, once, so a command that needs none (e.g. `flows validate` of
a file without lookup tables) never opens it; a shell that already has a store passes it in and
keeps closing it itself. Each service's module is imported when it is first asked for, so
holding a `Services` costs nothing until then.
"""

from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from cartwire.resources import Platform
    from cartwire.services.access import AccessService
    from cartwire.services.dispatch import Dispatcher
    from cartwire.services.flows import FlowService
    from cartwire.services.instances import InstanceService
    from cartwire.services.lookups import LookupService
    from cartwire.services.pools import PoolService
    from cartwire.services.queue import QueueStatus
    from cartwire.services.records import RecordService
    from cartwire.services.run_starter import RunStarter
    from cartwire.services.runs import RunService
    from cartwire.services.slices import Send, SliceBudget
    from cartwire.services.validation import FlowValidation
    from cartwire.services.webhooks import WebhookService
    from cartwire.store import Store as Store  # for shells that are handed one


class Services:
    def __init__(self, store: "Store | None" = None) -> None:
        self._given = store

    @cached_property
    def store(self) -> "Store":
        if self._given is not None:
            return self._given
        from cartwire.store import Store

        return Store.open()

    def close(self) -> None:
        """Close the store if this opened it."""
        if self._given is None and "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> "Services":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @cached_property
    def instances(self) -> "InstanceService":
        from cartwire.services.instances import InstanceService

        return InstanceService(self.store)

    @cached_property
    def pools(self) -> "PoolService":
        from cartwire.services.pools import PoolService

        return PoolService(self.store)

    @cached_property
    def flows(self) -> "FlowService":
        from cartwire.services.flows import FlowService

        return FlowService(lambda: self.store)

    @cached_property
    def runs(self) -> "RunService":
        from cartwire.services.runs import RunService

        return RunService(self.store)

    @cached_property
    def dispatcher(self) -> "Dispatcher":
        """Where runs nobody waits for go: this process's threads, or the Celery workers when
        CARTWIRE_BROKER_URL names a broker (`dispatch`)."""
        from cartwire.services.dispatch import dispatcher_for

        return dispatcher_for(self.store)

    @cached_property
    def starter(self) -> "RunStarter":
        """Runs a long-lived process (the HTTP server) starts and does not wait for, through
        the `dispatcher`."""
        from cartwire.services.run_starter import RunStarter

        return RunStarter(self.store, self.dispatcher)

    def workers_status(self, timeout: float = 2.0) -> "QueueStatus":
        """The workers that answer, the queue's waiting slices, the runs queued and running:
        `NoBroker` without CARTWIRE_BROKER_URL."""
        from cartwire.services.dispatch import NoBroker, broker_url
        from cartwire.services.queue import queue_status

        url = broker_url()
        if url is None:
            raise NoBroker()
        return queue_status(self.store, url, timeout)

    def process_slice(self, run_id: int, number: int, send: "Send", budget: "SliceBudget") -> str:
        """A worker's slice of a run: taken, processed, handed over (`slices`)."""
        from cartwire.services.slices import process_slice

        return process_slice(self.store, run_id, number, send, budget)

    def requeue_lost_slices(self, send: "Send") -> list[int]:
        """The runs on workers whose slice was lost with its worker, queued again
        (`slices.requeue_lost`)."""
        from cartwire.services.slices import requeue_lost

        return requeue_lost(self.store, send)

    def metrics(self) -> tuple[bytes, str]:
        """The Prometheus exposition (`metrics`): runs and records from the store, this
        process's requests per instance; (body, content type)."""
        from cartwire.services.metrics import render_prometheus

        return render_prometheus(self.store)

    @cached_property
    def lookups(self) -> "LookupService":
        from cartwire.services.lookups import LookupService

        return LookupService(self.store)

    @cached_property
    def records(self) -> "RecordService":
        from cartwire.services.records import RecordService

        return RecordService(self.store)

    @cached_property
    def webhooks(self) -> "WebhookService":
        from cartwire.services.webhooks import WebhookService

        return WebhookService(lambda: self.store)

    @cached_property
    def access(self) -> "AccessService":
        from cartwire.services.access import AccessService

        return AccessService(self.store)

    def validate_flow(self, file: Path, destination: str | None = None) -> "FlowValidation":
        """A flow file's problems and its lookup tables' readiness (`validation`)."""
        from cartwire.services.validation import validate_file

        return validate_file(file, destination, lambda: self.store)

    def open(self, instance: str) -> "Platform":
        """Read and write the instance's records by endpoint name (`cartwire.open`)."""
        from cartwire.services.clients import open_platform

        return open_platform(self.store, instance)

    def connect(self, instance: str, *, timeout: float = 30.0) -> "httpx.Client":
        """An authenticated httpx client for the instance (`cartwire.connect`)."""
        from cartwire.services.clients import connect

        return connect(self.store, instance, timeout)

    def aconnect(self, instance: str, *, timeout: float = 30.0) -> "httpx.AsyncClient":
        from cartwire.services.clients import aconnect

        return aconnect(self.store, instance, timeout)

    def store_problem(self) -> str | None:
        """Why the store cannot be used right now (for health checks), or None."""
        from cartwire.store import StoreError

        try:
            self.store.ping()
        except StoreError as exc:
            return str(exc)
        return None

    def rotate_secrets(self, new_key: bytes | None = None) -> int:
        """Re-encrypt every stored secret under a new key; the count of values re-encrypted."""
        return self.store.encryption.rotate(new_key)
