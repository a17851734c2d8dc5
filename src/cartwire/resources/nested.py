"""Writing into an object the destination already has: merged by default, replaced on request.

Two flows (or a prebuilt flow and a user's) often write different keys of one object on the
same record: `metadata.first_name` from one, `metadata.segment` from another. Sending the object
as one flow mapped it would delete the other flow's keys on every run, and the other flow would
put them back on its next run. So a writer merges a mapped object into the current one (a nested
object into the nested object; anything else, a list included, replaces the value there) and
compares the result with what is there, so merging keys that already have their values makes no
write. A top-level field named in `Writer.replace` (a flow's `replace: true`) is sent as mapped
instead, replacing what is there.

Platforms differ in how they store an object they are sent, so each platform's writer decides
how to send the result (the whole merged object, or one update per changed key), and which
objects are single values that replace rather than merge (`whole`: a reference
or an amount of money); what the result is, is decided here.
"""

from collections.abc import Callable, Mapping
from typing import Any


def _never(value: Any) -> bool:
    return False


def merge(current: Any, desired: Any, whole: Callable[[Any], bool] = _never) -> Any:
    """`desired` merged into `current`: keys of `desired` win, recursively where both hold an
    object there (unless `whole` says `desired`'s is one value); keys only `current` has stay."""
    if not isinstance(current, Mapping) or not isinstance(desired, Mapping) or whole(desired):
        return desired
    merged = dict(current)
    for name, value in desired.items():
        merged[name] = merge(current.get(name), value, whole)
    return merged


def written(
    name: str,
    current: Any,
    desired: Any,
    replace: frozenset[str],
    whole: Callable[[Any], bool] = _never,
) -> Any:
    """What top-level field `name` holds after writing `desired` over `current`."""
    return desired if name in replace else merge(current, desired, whole)
