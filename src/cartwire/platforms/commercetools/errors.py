"""Which commercetools error codes are worth another try within a run."""

from cartwire.resources.failures import ErrorClass, by_http_status

# The platform was busy (or never answered): nothing was wrong with the record.
_TRANSIENT = frozenset({"General", "OverCapacity", "PendingOperation"})
CONCURRENT_MODIFICATION = "ConcurrentModification"  # a 409: someone else wrote in between
# OAuth error codes on an API call: the token's scopes do not cover it.
_NO_ACCESS = frozenset({"invalid_token", "insufficient_scope"})


def classify(code: str | None) -> ErrorClass:
    """An answer without a body of ours (a proxy's 503) has only its status to go by."""
    if code is None or code in _TRANSIENT:
        return "transient"
    if code == CONCURRENT_MODIFICATION:
        return "conflict"
    if code in _NO_ACCESS:
        return "configuration"
    return by_http_status(code) if code.isdigit() else "permanent"
