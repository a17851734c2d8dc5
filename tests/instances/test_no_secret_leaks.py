"""No secret in any output: every command of the instances issue is run with known secrets, and
all of stdout, stderr, the log files and the database are searched for them."""

import json
from pathlib import Path

import httpx
import pytest

from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.processes import free_port
from tests.instances.support import add_from_stdin
from tests.sandbox_instances import set_args
from tests.support import run_cli

CT_BAD = "ct-wrong-secret-0123456789"
CL_BAD = "cl-wrong-secret-0123456789"


def test_no_command_prints_or_logs_a_secret(tmp_path: Path, ct: Sandbox, cl: Sandbox) -> None:
    ct_creds, cl_creds = ct.credentials, cl.credentials
    secrets = [ct_creds["client_secret"], cl_creds["client_secret"], CT_BAD, CL_BAD]
    env = {"CT_SECRET": ct_creds["client_secret"], "CT_BAD": CT_BAD}
    commands: list[tuple[list[str], str | None]] = [
        (["connectors", "list"], None),
        (["connectors", "show", "commercetools", "--json"], None),
        (
            [
                "instances",
                "add",
                "commercetools",
                "--name",
                "ct",
                *set_args(ct),
                "--set-env",
                "client_secret=CT_SECRET",
            ],
            None,
        ),
        (
            [
                "instances",
                "add",
                "commercetools",
                "--name",
                "ct-bad",
                *set_args(ct),
                "--set-env",
                "client_secret=CT_BAD",
            ],
            None,
        ),
        (
            [
                "instances",
                "add",
                "commercetools",
                "--name",
                "ct-bad",
                *set_args(ct),
                "--set",
                f"client_secret={CT_BAD}",
                "--set",
                "region=nowhere",
                "--set",
                "auth_url=nope",
            ],
            None,
        ),
        (
            [
                "instances",
                "add",
                "commercelayer",
                "--name",
                "cl",
                *set_args(cl),
                "--stdin",
                "client_secret",
                "--json",
            ],
            cl_creds["client_secret"] + "\n",
        ),
        (
            [
                "instances",
                "add",
                "commercelayer",
                "--name",
                "cl-bad",
                *set_args(cl),
                "--stdin",
                "client_secret",
                "--json",
            ],
            CL_BAD + "\n",
        ),
        (
            [
                "instances",
                "add",
                "commercelayer",
                "--name",
                "cl-dead",
                *set_args(cl),
                "--set",
                f"auth_url=http://127.0.0.1:{free_port()}",
                "--stdin",
                "client_secret",
            ],
            CL_BAD + "\n",
        ),
        (
            [
                "instances",
                "add",
                "commercelayer",
                "--name",
                "cl-unsaved",
                *set_args(cl),
                "--stdin",
                "client_secret",
                "--no-test",
            ],
            CL_BAD + "\n",
        ),
        (["instances", "list"], None),
        (["instances", "list", "--json"], None),
        (["instances", "show", "ct"], None),
        (["instances", "show", "cl", "--json"], None),
        (["instances", "show", "cl-unsaved", "--json"], None),
        (["instances", "test", "ct"], None),
        (["instances", "test", "cl", "--json"], None),
        (["instances", "test", "cl-unsaved"], None),
        (["instances", "test", "cl-unsaved", "--json"], None),
        (["instances", "update", "ct", "--set-env", "client_secret=CT_BAD"], None),
        (["instances", "update", "ct", "--set-env", "client_secret=CT_BAD", "--json"], None),
        (["instances", "update", "ct", "--timezone", "Europe/Paris", "--json"], None),
        (["api", "ct", "products?limit=1"], None),
        (["api", "cl", "markets"], None),
        (["api", "cl-unsaved", "markets"], None),
        (["secrets", "rotate"], None),
        (["instances", "show", "ct", "--json"], None),
        (["instances", "remove", "cl-unsaved", "--json"], None),
    ]
    transcript = []
    for args, stdin in commands:
        done = run_cli(tmp_path, *args, stdin=stdin, env=env)
        transcript.append(f"$ {' '.join(args[:2])}\n{done.stdout}\n{done.stderr}")
    everything = "\n".join(transcript)
    for log in (tmp_path / "logs").glob("*"):
        everything += log.read_text(errors="replace")
    for path in tmp_path.glob("cartwire.db*"):
        everything += path.read_bytes().decode("latin-1")
    for secret in secrets:
        at = everything.find(secret)
        assert at < 0, f"a secret leaked here:\n{everything[max(0, at - 600) : at + 100]}"
    # The run did exercise the paths it claims to (a leak test that checks nothing proves nothing).
    assert "invalid_client" in everything
    assert "unreachable" in everything
    assert json.loads(run_cli(tmp_path, "instances", "show", "ct", "--json").stdout)["fields"][
        "client_secret"
    ].startswith("••••")


@pytest.mark.parametrize("platform", ["commercetools", "commercelayer"])
def test_python_api_connect(
    platform: str, tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import cartwire

    sandbox = ct if platform == "commercetools" else cl
    done = add_from_stdin(tmp_path, sandbox, "it")
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    path = "products" if platform == "commercetools" else "markets"
    headers = {"Accept": "application/vnd.api+json"}
    with cartwire.connect("it") as client:
        assert client.get(path, headers=headers).status_code == 200

    async def use_async() -> int:
        async with cartwire.aconnect("it") as client:
            return (await client.get(path, headers=headers)).status_code

    assert asyncio.run(use_async()) == 200
    counters = httpx.get(f"{sandbox.url}/_sandbox/counters").json()
    assert counters["token_requests"] == 2  # the add's credential test, then one shared token
