"""What this process asked of each instance: API requests, the 429s among their answers, and
token requests. Process-wide and thread-safe, for metrics.

These count the requests of the process that reads them only: the HTTP server's metrics show
the requests of the runs it started, not those of a CLI run or a scheduler elsewhere. Runs and
records, by contrast, are read from the store and so cover every process sharing it.

Fed where requests leave: the `ApiClient` and the `GovernedTransport` (every answer, each
attempt of a retried request included) and the token source (every token actually requested,
not the cached ones handed out), each knowing the instance's name.
"""

import threading
from collections import Counter
from dataclasses import dataclass

_lock = threading.Lock()
_api: Counter[str] = Counter()
_throttled: Counter[str] = Counter()
_tokens: Counter[str] = Counter()


@dataclass(frozen=True)
class InstanceRequests:
    api_requests: int = 0
    throttled: int = 0  # answers 429 Too Many Requests, among `api_requests`
    token_requests: int = 0


def answered(instance: str, status: int) -> None:
    """One API response from the instance."""
    with _lock:
        _api[instance] += 1
        if status == 429:
            _throttled[instance] += 1


def token_requested(instance: str) -> None:
    """One request to the instance's token endpoint."""
    with _lock:
        _tokens[instance] += 1


def snapshot() -> dict[str, InstanceRequests]:
    """Every instance this process sent a request to, by name."""
    with _lock:
        names = sorted({*_api, *_tokens})
        return {
            name: InstanceRequests(_api[name], _throttled[name], _tokens[name]) for name in names
        }
