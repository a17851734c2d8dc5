"""How a failed write should be met, so the run loop can decide without knowing the platform.

Each platform registers an error classifier (`cartwire.platforms.registry`) that reads its own
error codes; a writer names its platform's (`Writer.errors`), and every failure it reports
carries the class (`WriteResult.error_class`). Writers that name none use the HTTP status.
"""

from collections.abc import Callable
from typing import Literal

# transient: the platform was busy, not the record wrong (worth another try within the run);
# conflict: someone else wrote in between (worth another try, on a fresh read);
# configuration: the credentials lack access (a scope, a permission): the setup must change;
# permanent: the record or the request is wrong (trying again changes nothing).
ErrorClass = Literal["transient", "conflict", "configuration", "permanent"]
# From a failure's code (None: the request never got an answer that named one).
ErrorClassifier = Callable[[str | None], ErrorClass]

_BUSY = frozenset({"429", "500", "502", "503", "504"})
_NO_ACCESS = frozenset({"401", "403"})


def by_http_status(code: str | None) -> ErrorClass:
    """For writers whose codes are HTTP statuses (the generic writers)."""
    if code is None or code in _BUSY:
        return "transient"
    if code in _NO_ACCESS:
        return "configuration"
    return "conflict" if code == "409" else "permanent"
