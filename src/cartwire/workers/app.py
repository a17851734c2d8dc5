"""The Celery app of `cartwire worker`, with its one task: a slice of a run.

The app is made by the service layer's `queue.celery_app`, so a worker and whoever sends to it
agree on the queue and its settings; the task only hands the message to `Services`. Each worker
process opens the store for itself, on its first slice: a prefork pool forks its processes
from the worker's main one, which must hold no database connection to hand down.
"""

import os

from celery import Celery

from cartwire.services.context import Services
from cartwire.services.queue import SLICE_TASK, SliceSender, celery_app
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

    return app
