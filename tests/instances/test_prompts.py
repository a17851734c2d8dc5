"""`cartwire instances add` at a terminal: it prompts for each missing field, in the seed's order,
with the label, default and help text, and never echoes the secret."""

import fcntl
import os
import select
import subprocess
import termios
import time
from pathlib import Path

from cartwire.sandbox.manager import Sandbox
from tests.support import CARTWIRE


def _read_until(fd: int, needle: str, seen: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in "".join(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} in {''.join(seen)!r}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.append(os.read(fd, 4096).decode(errors="replace"))
            except OSError:
                break


def _own_terminal() -> None:
    """Make the pty the child's controlling terminal, so getpass can switch echo off on it."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_prompts_in_seed_order(tmp_path: Path, ct: Sandbox) -> None:
    creds = ct.credentials
    master, slave = os.openpty()
    process = subprocess.Popen(
        [
            CARTWIRE,
            "instances",
            "add",
            "commercetools",
            "--name",
            "typed",
            "--set",
            f"auth_url={creds['auth_url']}",
            "--set",
            f"api_url={creds['api_url']}",
            "--json",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "CARTWIRE_HOME": str(tmp_path), "COLUMNS": "200"},
        preexec_fn=_own_terminal,
    )
    os.close(slave)
    answers = [
        ("Scope:", creds["scope"]),
        ("Client ID:", creds["client_id"]),
        ("Secret:", creds["client_secret"]),
        ("Project key:", creds["project_key"]),
        ("Commercetools server region [europe-west1.gcp]:", ""),
        ("Grant type [client_credentials]:", ""),
        ("Response authentication token key [access_token]:", ""),
        ("Client type [confidential]:", ""),
    ]
    seen: list[str] = []
    for prompt, answer in answers:
        # click writes the label, then the reader writes " " once it reads (for a hidden
        # prompt: once echo is off, flushing anything typed earlier), so wait for the space.
        _read_until(master, prompt + " ", seen)
        os.write(master, f"{answer}\n".encode())
    _read_until(master, '"tested": true', seen)
    process.wait(timeout=30)
    os.close(master)
    transcript = "".join(seen)
    assert process.returncode == 0, transcript
    positions = [transcript.index(prompt) for prompt, _ in answers]
    assert positions == sorted(positions)
    assert "The scopes selected when your API client was created" in transcript
    assert creds["client_secret"] not in transcript
    assert "Auth URL" not in transcript  # advanced fields are not prompted
