"""What the `cartwire instances` tests share: adding a sandbox's instance through the real CLI."""

import subprocess
from pathlib import Path

from cartwire.sandbox.manager import Sandbox
from tests.sandbox_instances import set_args
from tests.support import run_cli


def add_from_stdin(
    home: Path, sandbox: Sandbox, name: str, *extra: str, **overrides: str
) -> subprocess.CompletedProcess[str]:
    """`cartwire instances add` for the sandbox's platform, the secret typed on stdin (the way
    a person would, so it is never in the arguments or the environment)."""
    return run_cli(
        home,
        "instances",
        "add",
        sandbox.platform,
        "--name",
        name,
        *set_args(sandbox, **overrides),
        "--stdin",
        "client_secret",
        *extra,
        stdin=sandbox.credentials["client_secret"] + "\n",
    )
