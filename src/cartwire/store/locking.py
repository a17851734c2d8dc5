"""An advisory lock between cartwire processes on this machine, on a file next to the keyring.

Key rotation holds it exclusively; writers of encrypted values hold it shared while they encrypt
and commit. That way no process can commit a value under a key that a concurrent rotation is
about to drop. Waiting is bounded so that a stuck process produces an error, not a hang. On
platforms without `fcntl` the lock is a no-op (rotation is then only safe while no other
cartwire process runs).
"""

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cartwire.store.errors import StoreError

LOCK_TIMEOUT_SECONDS = 120.0


@contextmanager
def file_lock(path: Path, *, exclusive: bool, timeout: float | None = None) -> Iterator[None]:
    timeout = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform != "win32":
            import fcntl

            mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, mode)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(
                            f"another cartwire process has held {path} for {timeout:.0f} s "
                            "(a key rotation?); try again when it has finished"
                        ) from None
                    time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing releases the flock
