"""A real `cartwire serve` for the web UI's tests, its users, and signing in without a browser.

The server runs in a private home with users made the way a person makes them
(`cartwire users add NAME --role ROLE`, the password on stdin). `Signed` is a logged-in httpx
client that knows its session's CSRF token, for the tests of what the server refuses.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.served import cartwire_serve
from tests.flows.triggers_support import env_for
from tests.support import run_cli

PASSWORD = "correct horse battery"  # long enough for the 12-character rule
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Server:
    home: Path
    url: str
    first_login_page: str  # /login before any user existed


def add_user(home: Path, name: str, role: str) -> None:
    done = run_cli(home, "users", "add", name, "--role", role, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr


@contextmanager
def serving(home: Path, users: dict[str, str]) -> Iterator[Server]:
    """`cartwire serve` on a free port in `home`, up (GET /health 200) before `users` (name:
    role) are added, so its first login page is the one a new install shows."""
    home.mkdir(parents=True, exist_ok=True)
    with cartwire_serve(env_for(home)) as url:
        first = httpx.get(f"{url}/login", timeout=10).text
        for name, role in users.items():
            add_user(home, name, role)
        yield Server(home, url, first)


def csrf_field(html: str) -> str:
    found = _HIDDEN.search(html)
    assert found, f"no csrf_token field in the page: {html[:500]}"
    return found.group(1)


@dataclass
class Signed:
    client: httpx.Client
    csrf_token: str


@contextmanager
def signed_in(server: Server, name: str) -> Iterator[Signed]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        form = client.get("/login")
        done = client.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf_token": csrf_field(form.text)},
        )
        assert done.status_code == 303, done.text
        page = client.get("/instances")
        assert page.status_code == 200, page.text
        yield Signed(client, csrf_field(page.text))
