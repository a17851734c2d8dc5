"""Starting a Celery worker on this deployment's broker and queue (`cartwire worker`)."""

import logging
import os

from cartwire.services.clients import share_limits
from cartwire.services.dispatch import NoBroker, broker_url
from cartwire.services.queue import queue_name
from cartwire.services.slices import SliceBudget
from cartwire.workers.app import worker_app

# Libraries whose INFO lines (every HTTP request, every migration check) would bury the worker's
# own in its log at --loglevel=INFO; their warnings still show.
QUIET = ("httpx", "httpcore", "alembic")


def run_worker(concurrency: int | None, budget: SliceBudget, name: str | None = None) -> None:
    """Process slices until told to stop (SIGTERM: finish the slices in hand, then exit).

    Gossip and mingle are off: cartwire's workers coordinate through the store, never with each
    other, and a worker starts without waiting for its peers to answer. Each worker gets a name
    of its own (`cartwire-PID@host`) unless given one, so several on one host stay apart.
    Limits are shared through a Redis broker (`share_limits`): set before the pool forks, so
    every worker process inherits it."""
    url = broker_url()
    if url is None:
        raise NoBroker()
    share_limits(url)
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--queues={queue_name()}",
        f"--hostname={name or f'cartwire-{os.getpid()}@%h'}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    for chatty in QUIET:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    worker_app(url, budget).worker_main(argv)
