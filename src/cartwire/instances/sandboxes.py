"""Instances of a local sandbox: `cartwire sandbox up` records each server's URLs and the
credentials it accepts (in `$CARTWIRE_HOME/sandbox.json`), so nobody has to copy them by hand."""

from cartwire.connectors import AuthMethod
from cartwire.sandbox.manager import Sandbox, load_state


class NoSandbox(Exception):
    """`--sandbox` was asked for, but no sandbox of that platform is running."""

    def __init__(self, connector: str) -> None:
        super().__init__(
            f"--sandbox: no {connector} sandbox is running; start one with "
            "`cartwire sandbox up`, or leave out --sandbox"
        )


def running_sandbox(connector: str) -> Sandbox | None:
    """The recorded sandbox of this connector's platform, if it still answers."""
    sandbox = load_state().get(connector)
    return sandbox if sandbox is not None and sandbox.running() else None


def require_sandbox(connector: str) -> Sandbox:
    sandbox = running_sandbox(connector)
    if sandbox is None:
        raise NoSandbox(connector)
    return sandbox


def with_sandbox(sandbox: Sandbox, method: AuthMethod, given: dict[str, str]) -> dict[str, str]:
    """The given values, completed by the sandbox's URLs and credentials (given values win)."""
    keys = {field.key for field in method.fields}
    return {**{k: v for k, v in sandbox.credentials.items() if k in keys}, **given}
