"""A real `cartwire serve` for the API tests: its own home (and database), API keys made with
the real `cartwire apikeys create`, and requests over loopback HTTP."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cartwire.sandbox.processes import free_port
from tests.flows.triggers_support import env_for, wait_for
from tests.support import CARTWIRE


@dataclass
class Served:
    home: Path
    url: str
    env: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)  # role → key

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CARTWIRE, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def key(self, role: str) -> str:
        """An API key of `role` (made once per server)."""
        if role not in self.keys:
            made = self.cli("apikeys", "create", "--name", f"{role}-key", "--role", role)
            assert made.returncode == 0, made.stderr
            self.keys[role] = made.stdout.strip()
        return self.keys[role]

    def call(
        self, method: str, path: str, role: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.key(role)}"
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)


@contextmanager
def cartwire_serve(env: dict[str, str]) -> Iterator[str]:
    """`cartwire serve` on a free port, run with `env`, until the block ends (then SIGTERM: it
    stops as it would in production, given 5 s of grace for its runs); its URL once `/health`
    says ok."""
    port = free_port()
    process = subprocess.Popen(
        [CARTWIRE, "serve", "--port", str(port), "--grace", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            assert process.poll() is None, process.communicate()[1]
            return False

    try:
        wait_for(healthy, 60, "cartwire serve")
        yield url
    finally:
        process.terminate()
        process.wait(60)


@contextmanager
def served(home: Path, database_url: str | None = None) -> Iterator[Served]:
    """`cartwire serve` in `home` (and `database_url`, else the home's SQLite) until the block
    ends."""
    env = env_for(home)
    if database_url is not None:
        env["CARTWIRE_DATABASE_URL"] = database_url
    with cartwire_serve(env) as url:
        yield Served(home, url, env)
