"""cartwire on Celery workers: a shell over the service layer, like the CLI and the HTTP API.

`app.worker_app` is the Celery app `cartwire worker` runs: one task, a slice of a run
(`cartwire.services.slices`), which the service layer's `queue` module sends and configures.
The store, not the queue, says which worker may process which slice, so these workers share
nothing but the broker and the database (docs/workers.md).
"""
