"""What a running flow reports to whoever shows its progress: counts, totals and the limit it
waits for. Light to import (no store, no HTTP stack), for shells that draw progress."""

from cartwire.flows.progress import Progress, Update
from cartwire.http.waiting import Wait

__all__ = ["Progress", "Update", "Wait"]
