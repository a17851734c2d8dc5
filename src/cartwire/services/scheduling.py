"""The scheduler's runs: enabled flows started when their `schedule` triggers come due, each in
a thread of its own, or queued for the workers when a broker is configured
(`cartwire.flows.scheduler` holds every rule)."""

import threading
from collections.abc import Callable

from cartwire.flows.scheduler import Event, Scheduler
from cartwire.services.dispatch import trigger_launcher
from cartwire.store import Store


def serve_schedules(
    store: Store,
    stop: threading.Event,
    emit: Callable[[Event], None],
    *,
    poll: float,
    grace: float,
    once: bool,
    force: threading.Event,
) -> None:
    """Until `stop` is set (or after one pass with `once`), telling `emit` every event."""
    scheduler = Scheduler(store, trigger_launcher(store))
    scheduler.serve(stop, emit, poll=poll, grace=grace, once=once, force=force)


__all__ = ["Event", "serve_schedules"]
