"""Driving `cartwire instances add` at a real pseudo-terminal, as a person would: stdin is a tty
(so the wizard runs) and the pty is the controlling terminal (so getpass can switch echo off).

Every step waits for text the program announces (a prompt, a message, the end of output),
never for a length of time; the deadline only turns a hang into a readable failure.
"""

import fcntl
import os
import re
import select
import subprocess
import termios
import time
from pathlib import Path
from types import TracebackType

from tests.support import CARTWIRE

DEADLINE = 60.0
STYLE = re.compile(r"\x1b\[[0-9;]*m")  # rich's bold and colours, between the words


def _own_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """One `cartwire` process at a pty, with everything it printed so far."""

    def __init__(self, home: Path, *args: str) -> None:
        master, slave = os.openpty()
        self.fd = master
        self.process = subprocess.Popen(
            [CARTWIRE, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "CARTWIRE_HOME": str(home), "COLUMNS": "400"},
            preexec_fn=_own_terminal,
        )
        os.close(slave)
        self.seen = ""
        self.position = 0  # where the next expect starts looking: prompts repeat
        self.closed = False

    def __enter__(self) -> "Pty":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """A failed step leaves the program waiting at a prompt: stop it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)

    def _read(self, deadline: float) -> None:
        if self.closed:
            return
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed its side of the pty
            chunk = b""
        if chunk:
            self.seen += chunk.decode(errors="replace")
        else:
            self.closed = True

    def expect(self, needle: str) -> None:
        """Wait until `needle` appears after the last thing expected."""
        deadline = time.monotonic() + DEADLINE
        while needle not in self.text[self.position :]:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} after {self.text[self.position :]!r}")
            self._read(deadline)
        self.position = self.text.index(needle, self.position) + len(needle)

    @property
    def text(self) -> str:
        """What a person would read: the output without its styles."""
        return STYLE.sub("", self.seen)

    def answer(self, prompt: str, text: str) -> None:
        """Type `text` at the prompt `prompt`. The prompt function writes the whole prompt, up to
        its trailing space, only once it reads (for a hidden one: once echo is off)."""
        self.expect(prompt + ": ")
        os.write(self.fd, f"{text}\n".encode())

    def finish(self) -> tuple[int, str]:
        """Read to the end of the output; the exit code and the whole transcript (unstyled)."""
        deadline = time.monotonic() + DEADLINE
        while not self.closed:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"still running after {self.seen!r}")
            self._read(deadline)
        return self.process.wait(timeout=DEADLINE), self.text
