"""Which Commerce Layer error codes are worth another try within a run."""

from cartwire.resources.failures import ErrorClass, by_http_status

# The token or the credentials' role lacks access to the resource: the setup must change.
_NO_ACCESS = frozenset({"INVALID_TOKEN", "UNAUTHORIZED", "FORBIDDEN"})


def classify(code: str | None) -> ErrorClass:
    """A request that got no answer, or the platform's own fault (500): worth another try;
    anything else the platform refused on its merits. An answer without a body of the platform's
    (a gateway's 503) has only its status to go by."""
    if code in (None, "INTERNAL_SERVER_ERROR"):
        return "transient"
    if code in _NO_ACCESS:
        return "configuration"
    return by_http_status(code) if code.isdigit() else "permanent"
