"""Many key values packed into few lookup requests, each within a URL's safe length.

A lookup that asks for one key a request costs one request per record; asking for many in one
parameter (`sku=A,B,C`, `filter[q][code_in]=A,B,C`) costs one per list. A list stays within
`chars` characters once URL-encoded (past ~2,000 characters not every proxy passes a URL), and
a value holding the separator cannot go into a list, so it is asked for on its own.
"""

from collections.abc import Iterable, Iterator
from urllib.parse import quote


def in_lists(
    values: Iterable[str], size: int, chars: int = 1500, separator: str | None = ","
) -> Iterator[list[str]]:
    """`values` packed into lists of at most `size` values and `chars` characters (URL-encoded,
    with the separator between them); a value containing the separator comes alone. With no
    separator (the parameter repeated per value) each value costs its own `name=` too, which
    the budget leaves to the caller's margin."""
    gap = len(quote(separator, safe="")) if separator else 0
    packed: list[str] = []
    length = 0
    for value in values:
        if separator and separator in value:
            yield [value]
            continue
        cost = len(quote(value, safe="")) + gap
        if packed and (len(packed) >= size or length + cost > chars):
            yield packed
            packed, length = [], 0
        packed.append(value)
        length += cost
    if packed:
        yield packed
