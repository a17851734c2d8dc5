"""The Celery app of `cartwire worker`, with its two tasks: a slice of a run, and a sweep that
queues again the slices lost with their workers.

The app is made by the service layer's `queue.celery_app`, so a worker and whoever sends to it
agree on the queue and its settings; the task only hands the message to `Services`. Each worker
process opens the store for itself, on its first slice: a prefork pool forks its processes
from the worker's main one, which must hold no database connection to hand down.
"""

import os
from typing import Any

from celery import Celery, bootsteps

from cartwire.services.context import Services
from cartwire.services.queue import SLICE_TASK, SWEEP_TASK, SliceSender, celery_app
from cartwire.services.slices import SliceBudget

_services: dict[int, Services] = {}  # by process id: each forked process opens its own


def _of_this_process() -> Services:
    pid = os.getpid()
    if pid not in _services:
        _services.clear()  # a parent's, copied by fork: never used here
        _services[pid] = Services()
    return _services[pid]


def worker_app(broker_url: str, budget: SliceBudget) -> Celery:
    """The app whose task processes one slice of a run within `budget`, and sends the next."""
    app = celery_app(broker_url)
    send = SliceSender(app)

    @app.task(name=SLICE_TASK)
    def run_slice(run_id: int, number: int) -> str:
        return _of_this_process().process_slice(run_id, number, send, budget)

    @app.task(name=SWEEP_TASK)
    def sweep() -> list[int]:
        return _of_this_process().requeue_lost_slices(send)

    app.steps["worker"].add(Sweeping)
    return app


SWEEP_SECONDS = 15.0  # how often each worker asks for a sweep


class Sweeping(bootsteps.StartStopStep):
    """Every SWEEP_SECONDS (and as it starts), the worker sends itself a sweep: the main
    process only sends the message (it holds no database connection, see above), one of its
    pool processes does the sweep. Every worker sweeps; the store's row locks make two
    sweeps at once queue a lost slice once. A sweep not taken within ten periods expires: a
    busy queue does not pile them up."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._timers: list[Any] = []

    def start(self, parent: Any) -> None:
        ask = _asking(parent.app)
        self._timers = [
            parent.timer.call_after(0.0, ask),
            parent.timer.call_repeatedly(SWEEP_SECONDS, ask),
        ]

    def stop(self, parent: Any) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []


def _asking(app: Celery) -> Any:
    def ask() -> None:
        app.send_task(SWEEP_TASK, queue=app.conf.task_default_queue, expires=10 * SWEEP_SECONDS)

    return ask
