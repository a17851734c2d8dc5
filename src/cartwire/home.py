"""Where cartwire keeps its state on this machine.

One directory holds the database, the secret key and the sandbox state file, so a user (or a test)
can point `CARTWIRE_HOME` somewhere else and get a completely separate cartwire.
"""

import os
from pathlib import Path

HOME_ENV = "CARTWIRE_HOME"


def data_dir() -> Path:
    """The data directory, created (owner-only) on first use."""
    path = Path(os.environ.get(HOME_ENV) or Path.home() / ".cartwire").expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically, since it may hold credentials."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
