"""Start, find and stop the two local platforms.

`up` records what it started in `$CARTWIRE_HOME/sandbox.json`, so that `status`, `down`, the test
suite and the demo all find the same running servers, and `down` stops exactly those processes.
"""

import fcntl
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cartwire.home import data_dir, write_private
from cartwire.sandbox.processes import (
    ProcessHandle,
    SandboxError,
    answers,
    free_port,
    spawn,
    wait_healthy,
)

COMMERCETOOLS = "commercetools"
COMMERCELAYER = "commercelayer"
PLATFORMS = (COMMERCETOOLS, COMMERCELAYER)

CT_PROJECT_KEY = "cartwire-sandbox"
CT_REGION = "europe-west1.gcp"
CL_ORGANIZATION = "cartwire-sandbox"
CL_SCOPE = "market:code:europe"
RATE_LIMIT_PROFILES = ("test", "live", "off")

_HERE = Path(__file__).resolve().parent
CT_START_SCRIPT = _HERE / "commercetools" / "start.mjs"


@dataclass
class Sandbox:
    """One running sandbox server and the credentials it accepts."""

    platform: str
    url: str
    pid: int
    start_time: int
    log: str
    credentials: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def handle(self) -> ProcessHandle:
        return ProcessHandle(self.pid, self.start_time)

    def running(self) -> bool:
        return self.handle.alive() and answers(self.url)


@dataclass(frozen=True)
class Options:
    """What `up` may be told; unset ports mean "pick a free loopback port"."""

    ct_port: int | None = None
    cl_port: int | None = None
    cl_rate_limits: str = "test"
    ct_token_lifetime: int | None = None
    cl_token_lifetime: int | None = None


def state_path() -> Path:
    return data_dir() / "sandbox.json"


def load_state() -> dict[str, Sandbox]:
    """The sandboxes recorded by the last `up` (running or not)."""
    path = state_path()
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {name: Sandbox(**entry) for name, entry in raw.items() if name in PLATFORMS}
    except (ValueError, TypeError) as exc:
        raise SandboxError(
            f"{path} is not a sandbox state file ({exc}); stop any sandbox processes "
            "by hand and delete it"
        ) from exc


def _save_state(state: dict[str, Sandbox]) -> None:
    if state:
        write_private(state_path(), json.dumps({k: asdict(v) for k, v in state.items()}, indent=2))
    else:
        state_path().unlink(missing_ok=True)


@contextmanager
def _locked() -> Iterator[None]:
    """Serialise `up`/`down` across processes so two callers never start two sandboxes."""
    with open(data_dir() / "sandbox.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def up(options: Options | None = None) -> dict[str, Sandbox]:
    """Start whichever sandbox is not already running; return both."""
    options = options or Options()
    if options.cl_rate_limits not in RATE_LIMIT_PROFILES:
        raise SandboxError(
            f"rate limits profile {options.cl_rate_limits!r} is unknown; "
            f"expected one of {', '.join(RATE_LIMIT_PROFILES)}"
        )
    with _locked():
        state = load_state()
        for platform in PLATFORMS:
            current = state.get(platform)
            if current is not None and current.running():
                continue
            if current is not None:
                current.handle.stop()
            state[platform] = _start(platform, options)
            _save_state(state)
        return state


def down() -> list[str]:
    """Stop exactly the processes `up` recorded; return the platforms that were stopped."""
    with _locked():
        state = load_state()
        stopped = []
        for platform, sandbox in state.items():
            if sandbox.handle.alive():
                sandbox.handle.stop()
                stopped.append(platform)
        _save_state({})
        return stopped


def _start(platform: str, options: Options) -> Sandbox:
    if platform == COMMERCETOOLS:
        port = options.ct_port or free_port()
        credentials, settings, argv, env = _commercetools_launch(port, options)
    else:
        port = options.cl_port or free_port()
        credentials, settings, argv, env = _commercelayer_launch(port, options)
    url = f"http://127.0.0.1:{port}"
    log = data_dir() / "logs" / f"sandbox-{platform}.log"
    handle = spawn(argv, env, log)
    wait_healthy(url, handle, log)
    return Sandbox(platform, url, handle.pid, handle.start_time, str(log), credentials, settings)


Launch = tuple[dict[str, str], dict[str, Any], list[str], dict[str, str]]


def _commercetools_launch(port: int, options: Options) -> Launch:
    node = shutil.which("node")
    if node is None:
        raise SandboxError("Node.js is needed for the commercetools sandbox; run scripts/setup")
    if not _find_node_package(CT_START_SCRIPT.parent, "@labdigital/commercetools-mock"):
        raise SandboxError(
            "the npm package @labdigital/commercetools-mock is not installed; run `npm ci` in the "
            "repository root (scripts/setup does it)"
        )
    url = f"http://127.0.0.1:{port}"
    credentials = {
        "auth_url": url,
        "api_url": url,
        "project_key": CT_PROJECT_KEY,
        "region": CT_REGION,
        "client_id": f"cartwire-{secrets.token_hex(6)}",
        "client_secret": secrets.token_urlsafe(24),
        "scope": f"manage_project:{CT_PROJECT_KEY}",
    }
    settings: dict[str, Any] = {"token_lifetime": options.ct_token_lifetime or 172800}
    env = {
        "CARTWIRE_CT_HOST": "127.0.0.1",
        "CARTWIRE_CT_PORT": str(port),
        "CARTWIRE_CT_PROJECT_KEY": CT_PROJECT_KEY,
        "CARTWIRE_CT_CLIENT_ID": credentials["client_id"],
        "CARTWIRE_CT_CLIENT_SECRET": credentials["client_secret"],
        "CARTWIRE_CT_TOKEN_LIFETIME": str(settings["token_lifetime"]),
    }
    return credentials, settings, [node, str(CT_START_SCRIPT)], env


def _commercelayer_launch(port: int, options: Options) -> Launch:
    url = f"http://127.0.0.1:{port}"
    credentials = {
        "auth_url": url,
        "api_url": url,
        "domain": CL_ORGANIZATION,
        "client_id": secrets.token_urlsafe(32),
        "client_secret": secrets.token_urlsafe(32),
        "scope": CL_SCOPE,
    }
    settings: dict[str, Any] = {
        "token_lifetime": options.cl_token_lifetime or 7200,
        "rate_limits": options.cl_rate_limits,
    }
    # `--option=value`: a random credential may begin with "-".
    argv = [
        sys.executable,
        "-m",
        "cartwire.sandbox.commercelayer",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--organization={CL_ORGANIZATION}",
        f"--client-id={credentials['client_id']}",
        f"--client-secret={credentials['client_secret']}",
        f"--token-lifetime={settings['token_lifetime']}",
        f"--rate-limits={options.cl_rate_limits}",
    ]
    return credentials, settings, argv, {}


def _find_node_package(start: Path, package: str) -> bool:
    """Mirror Node's resolution: a node_modules folder in `start` or any parent, or NODE_PATH."""
    candidates = [d / "node_modules" for d in (start, *start.parents)]
    candidates += [Path(p) for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p]
    return any((c / package / "package.json").exists() for c in candidates)


def credentials_document(state: dict[str, Sandbox]) -> dict[str, dict[str, str]]:
    """The `sandbox up --json` shape: per platform its base URLs and a ready set of credentials."""
    return {
        platform: dict(state[platform].credentials) for platform in PLATFORMS if platform in state
    }
