"""Which Commerce Layer error codes are worth another try within a run."""

from cartwire.resources.failures import ErrorClass


def classify(code: str | None) -> ErrorClass:
    """A request that got no answer, or the platform's own fault (500): worth another try;
    anything else the platform refused on its merits."""
    return "transient" if code in (None, "INTERNAL_SERVER_ERROR") else "permanent"
