"""`cartwire apikeys …` and `cartwire users …` with the real console script and store."""

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from cartwire.services.access import Principal
from cartwire.services.context import Services
from tests.support import CARTWIRE, run_cli

PASSWORD = "a long enough password"
ROLE_LIST = "admin, manager, user, read-only"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's home, also this process's, so the test can read the store it wrote."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    return tmp_path


def test_a_key_is_printed_once_works_and_is_never_listed(home: Path) -> None:
    made = run_cli(home, "apikeys", "create", "--name", "ci", "--role", "manager")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n"
    assert key.startswith("cw_")
    assert "shown once, stored hashed" in made.stderr
    assert key not in made.stderr

    table = run_cli(home, "apikeys", "list", "--wide")
    listed = run_cli(home, "apikeys", "list", "--json")
    assert table.returncode == listed.returncode == 0, table.stderr + listed.stderr
    assert key not in table.stdout + listed.stdout
    assert "ci" in table.stdout
    assert key[:8] in table.stdout
    [entry] = json.loads(listed.stdout)
    assert entry["prefix"] == key[:8]
    assert (entry["name"], entry["role"], entry["revoked_at"]) == ("ci", "manager", None)
    with Services() as services:
        assert services.access.authenticate_key(key) == Principal("ci", "manager", "key")

    revoked = run_cli(home, "apikeys", "revoke", "ci", "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revoked_at"] is not None
    with Services() as services:
        assert services.access.authenticate_key(key) is None


def test_create_json_gives_the_key_with_its_name_role_prefix_and_time(home: Path) -> None:
    made = run_cli(home, "apikeys", "create", "--name", "bot", "--role", "read-only", "--json")
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    assert set(document) == {"name", "role", "prefix", "key", "created_at"}
    assert (document["name"], document["role"]) == ("bot", "read-only")
    assert document["prefix"] == document["key"][:8]


def test_a_bad_role_is_a_usage_error_naming_the_option_and_the_roles(home: Path) -> None:
    for args, stdin in [
        (("apikeys", "create", "--name", "ci", "--role", "owner"), None),
        (("users", "add", "alice", "--role", "owner"), PASSWORD + "\n"),
    ]:
        done = run_cli(home, *args, stdin=stdin)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"error: --role: must be one of {ROLE_LIST} (got 'owner')"
        ]
    assert json.loads(run_cli(home, "apikeys", "list", "--json").stdout) == []
    assert json.loads(run_cli(home, "users", "list", "--json").stdout) == []


def test_a_taken_name_is_refused_and_nothing_changes(home: Path) -> None:
    assert run_cli(home, "apikeys", "create", "--name", "ci", "--role", "user").returncode == 0
    again = run_cli(home, "apikeys", "create", "--name", "ci", "--role", "admin")
    assert again.returncode == 2
    assert again.stdout == ""
    assert "--name: 'ci' is taken by another API key" in again.stderr
    assert [k["role"] for k in json.loads(run_cli(home, "apikeys", "list", "--json").stdout)] == [
        "user"
    ]

    added = run_cli(home, "users", "add", "alice", "--role", "user", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    taken = run_cli(home, "users", "add", "alice", "--role", "admin", stdin=PASSWORD + "\n")
    assert taken.returncode == 2
    assert "'alice' is taken by another user" in taken.stderr
    assert [u["role"] for u in json.loads(run_cli(home, "users", "list", "--json").stdout)] == [
        "user"
    ]

    missing = run_cli(home, "apikeys", "revoke", "nobody")
    assert missing.returncode == 2
    assert "no API key is named 'nobody'" in missing.stderr


def test_a_users_password_comes_from_stdin_and_signs_them_in(home: Path) -> None:
    added = run_cli(home, "users", "add", "alice", "--role", "manager", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    with Services() as services:
        grant = services.access.login("alice", PASSWORD)
        assert grant.user.role == "manager"
    [user] = json.loads(run_cli(home, "users", "list", "--json").stdout)
    assert (user["name"], user["role"], user["disabled"]) == ("alice", "manager", False)

    removed = run_cli(home, "users", "remove", "alice")
    assert removed.returncode == 0, removed.stderr
    with Services() as services:
        assert services.access.session(grant.token) is None
    assert run_cli(home, "users", "remove", "alice").returncode == 2


def test_a_short_or_missing_password_stores_no_user(home: Path) -> None:
    short = run_cli(home, "users", "add", "alice", "--role", "user", stdin="eleven char\n")
    assert short.returncode == 2
    assert "password: must be at least 12 characters" in short.stderr
    empty = run_cli(home, "users", "add", "alice", "--role", "user", stdin="")
    assert empty.returncode == 2
    assert "no password on stdin" in empty.stderr
    assert json.loads(run_cli(home, "users", "list", "--json").stdout) == []


def _read_until(fd: int, text: str) -> str:
    """What the terminal showed up to and including `text` (or up to its end)."""
    seen = ""
    while text not in seen:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the other side closed: nothing more will come
            break
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
    return seen


def test_at_a_terminal_the_password_is_asked_twice_hidden(home: Path) -> None:
    """Each answer is typed once its prompt is complete: the prompt is written after echo is
    turned off and pending input flushed, so an answer typed earlier would be lost."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [CARTWIRE, "users", "add", "alice", "--role", "admin"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "CARTWIRE_HOME": str(home)},
        start_new_session=True,  # no controlling terminal: getpass reads the pty given as stdin
    )
    os.close(terminal)
    try:
        shown = _read_until(controller, "Password: ")
        os.write(controller, (PASSWORD + "\n").encode())
        shown += _read_until(controller, "Repeat for confirmation: ")
        os.write(controller, (PASSWORD + "\n").encode())
        out, _ = process.communicate(timeout=60)
        shown += _read_until(controller, "\0")  # the rest, until the command's end
    finally:
        os.close(controller)
    assert process.returncode == 0, shown
    assert "Repeat for confirmation: " in shown
    assert PASSWORD not in shown
    assert out.decode() == "added user alice (admin)\n"
    with Services() as services:
        assert services.access.login("alice", PASSWORD).user.name == "alice"
