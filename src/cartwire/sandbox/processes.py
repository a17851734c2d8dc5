"""Background server processes that can be found again, and stopped, by a later command.

A PID alone is not an identity: after a reboot or a long time the number may belong to some other
program. We therefore record the kernel's start time of the process next to its PID and only treat
the pair as ours when both still match.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cartwire.procinfo import process_start_time


class SandboxError(RuntimeError):
    """A sandbox could not be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class ProcessHandle:
    pid: int
    start_time: int

    def alive(self) -> bool:
        """True while the very process we started is running (not a reused PID)."""
        return process_start_time(self.pid) == self.start_time

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group we created, then SIGKILL whatever is left after `timeout`."""
        if not self.alive():
            return
        _signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.05)
        _signal_group(self.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(argv: list[str], env: dict[str, str], log_path: Path) -> ProcessHandle:
    """Start a detached server (own session, output to `log_path`) and return its handle."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    start = process_start_time(process.pid)
    if start is None:
        raise SandboxError(f"{argv[0]} exited immediately; see {log_path}")
    return ProcessHandle(process.pid, start)


def wait_healthy(url: str, handle: ProcessHandle, log_path: Path, timeout: float = 60.0) -> None:
    """Poll `{url}/_sandbox/health` until it answers, failing fast if the process died."""
    import httpx  # here, so `cartwire --help` (which knows SandboxError) loads no HTTP stack

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not handle.alive():
                raise SandboxError(
                    f"the server at {url} exited during start-up:\n{_tail(log_path)}"
                )
            try:
                if client.get(f"{url}/_sandbox/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    handle.stop()
    raise SandboxError(f"the server at {url} did not answer within {timeout:.0f} s; see {log_path}")


def answers(url: str) -> bool:
    """True if a sandbox answers its health check at `url`."""
    import httpx

    try:
        return httpx.get(f"{url}/_sandbox/health", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
