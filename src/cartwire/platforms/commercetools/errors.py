"""Which commercetools error codes are worth another try within a run."""

from cartwire.resources.failures import ErrorClass

# The platform was busy (or never answered): nothing was wrong with the record.
_TRANSIENT = frozenset({"General", "OverCapacity", "PendingOperation"})
CONCURRENT_MODIFICATION = "ConcurrentModification"  # a 409: someone else wrote in between


def classify(code: str | None) -> ErrorClass:
    if code is None or code in _TRANSIENT:
        return "transient"
    return "conflict" if code == CONCURRENT_MODIFICATION else "permanent"
