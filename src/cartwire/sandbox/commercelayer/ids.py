"""Resource ids shaped like Commerce Layer's: ten letters, e.g. `xYZkjABcde`.

Real ids are hashids of an internal number and use letters only; so do ours. Baseline records
get ids derived from their natural key, so they are the same on every start and after a reset.
"""

from __future__ import annotations

import hashlib
import os
import random
import string

ALPHABET = string.ascii_letters
ID_LENGTH = 10
# Random bytes → letters in one C-level `translate` (a slight bias towards some letters is
# irrelevant for ids).
_LETTERS = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))


class IdGenerator:
    """Random ids from a generator seeded once per process (fast: no syscall per id)."""

    def __init__(self) -> None:
        self._random = random.Random(os.urandom(16))

    def new(self) -> str:
        return self._random.randbytes(ID_LENGTH).translate(_LETTERS).decode("ascii")

    def hex(self, length: int) -> str:
        return f"{self._random.getrandbits(length * 4):0{length}x}"


def stable_id(*parts: str) -> str:
    """An id that depends only on `parts`."""
    digest = hashlib.sha256("\x1f".join(("cartwire-cl-sandbox", *parts)).encode()).digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:ID_LENGTH])


def stable_hex(length: int, *parts: str) -> str:
    """A hex string (secrets, trace-like values) that depends only on `parts`."""
    return hashlib.sha256("\x1f".join(("cartwire-cl-sandbox", *parts)).encode()).hexdigest()[
        :length
    ]
