"""The `instances add` wizard at a real terminal: a bad answer is asked again with the reason, a
failed credential test asks again for what failed (keeping every other answer), a taken name is
refused before the first question, and a running sandbox fills itself in."""

import json
import shutil
from pathlib import Path

import pytest

from cartwire.sandbox import manager
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.processes import free_port
from tests.instances.support import add_from_stdin
from tests.instances.terminal import Pty
from tests.support import run_cli

FREE_REGION = "Commercetools server region (required) [europe-west1.gcp]"
TOKEN_KEY = "Response authentication token key (required) [access_token]"
SECRET = "Secret (required; input hidden)"
TAKEN = "an instance named 'ct' already exists; choose another name"


def _wizard(home: Path, ct: Sandbox, *args: str) -> Pty:
    """`instances add commercetools --name ct` at the sandbox's URLs, every other field typed."""
    urls = ("--set", f"auth_url={ct.url}", "--set", f"api_url={ct.url}")
    return Pty(home, "instances", "add", "commercetools", "--name", "ct", *urls, *args)


def _names(home: Path) -> list[str]:
    return [i["name"] for i in json.loads(run_cli(home, "instances", "list", "--json").stdout)]


def _saved(pty: Pty, home: Path) -> str:
    code, transcript = pty.finish()
    assert code == 0, transcript
    assert "added instance ct (commercetools); credentials tested" in transcript
    assert _names(home) == ["ct"]
    return transcript


def test_a_bad_value_is_asked_again_with_the_reason(tmp_path: Path, ct: Sandbox) -> None:
    creds = ct.credentials
    with _wizard(tmp_path, ct) as pty:
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, creds["client_secret"])
        pty.answer("Project key (required)", "Not A Key")
        pty.expect("Project key: expected 2 to 36 lowercase letters, digits, '-' or '_'")
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        _saved(pty, tmp_path)


def test_an_empty_required_answer_is_asked_again(tmp_path: Path, ct: Sandbox) -> None:
    creds = ct.credentials
    with _wizard(tmp_path, ct) as pty:
        pty.answer("Scope (required)", "")
        pty.expect("Scope: required; The scopes selected when your API client was created")
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, creds["client_secret"])
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        _saved(pty, tmp_path)


def test_a_scope_for_another_project_is_asked_again(tmp_path: Path, ct: Sandbox) -> None:
    """The mismatch shows only once the project key is known; then the scope is asked again."""
    creds = ct.credentials
    with _wizard(tmp_path, ct) as pty:
        pty.answer("Scope (required)", "manage_project:another-shop")
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, creds["client_secret"])
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        pty.expect("scope (Scope): 'manage_project:another-shop' names project 'another-shop'")
        pty.answer("Scope (required)", creds["scope"])
        _saved(pty, tmp_path)


def test_a_wrong_secret_is_asked_again_and_the_third_answer_saves(
    tmp_path: Path, ct: Sandbox
) -> None:
    creds = ct.credentials
    with _wizard(tmp_path, ct, "--json") as pty:
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, "wrong-secret-1")
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        pty.expect("the credential test failed: failed authentication")
        pty.expect("3 more tries")
        pty.answer(SECRET, "wrong-secret-2")
        pty.expect("2 more tries")
        pty.answer(SECRET, creds["client_secret"])
        code, transcript = pty.finish()
    assert code == 0, transcript
    assert '"tested": true' in transcript
    assert "Project key (required)" not in transcript[transcript.index("3 more tries") :]
    assert creds["client_secret"] not in transcript
    assert _names(tmp_path) == ["ct"]


def test_after_three_wrong_retries_nothing_is_saved(tmp_path: Path, ct: Sandbox) -> None:
    creds = ct.credentials
    with _wizard(tmp_path, ct) as pty:
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, "wrong-secret-0")
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        for retry in range(1, 4):
            pty.answer(SECRET, f"wrong-secret-{retry}")
        code, transcript = pty.finish()
    assert code == 1, transcript
    assert "the credentials were not saved: failed authentication" in transcript
    assert _names(tmp_path) == []


def test_an_unreachable_url_is_named_and_can_be_changed(tmp_path: Path, ct: Sandbox) -> None:
    creds = ct.credentials
    nowhere = f"http://127.0.0.1:{free_port()}"
    args = ("instances", "add", "commercetools", "--name", "ct", "--set", f"auth_url={nowhere}")
    with Pty(tmp_path, *args, "--set", f"api_url={nowhere}") as pty:
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, creds["client_secret"])
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        pty.expect(f"could not reach {nowhere}/oauth/token")
        pty.expect("--advanced")
        pty.expect("--sandbox")
        pty.answer("Change the URLs now? [y/N]", "y")
        pty.answer(f"Auth URL [{nowhere}]", ct.url)
        pty.answer(f"API URL [{nowhere}]", ct.url)
        _saved(pty, tmp_path)
    shown = json.loads(run_cli(tmp_path, "instances", "show", "ct", "--json").stdout)
    assert shown["fields"]["auth_url"] == ct.url


def test_a_taken_name_is_refused_before_the_first_prompt(tmp_path: Path, ct: Sandbox) -> None:
    assert add_from_stdin(tmp_path, ct, "ct").returncode == 0
    with Pty(tmp_path, "instances", "add", "commercetools", "--name", "ct") as pty:
        code, transcript = pty.finish()
    assert code == 2, transcript
    assert TAKEN in transcript
    assert "Scope" not in transcript


def test_the_taken_name_message_reads_once(tmp_path: Path, ct: Sandbox) -> None:
    assert add_from_stdin(tmp_path, ct, "ct").returncode == 0
    again = add_from_stdin(tmp_path, ct, "ct")
    assert again.returncode == 2
    assert TAKEN in again.stderr
    assert again.stderr.count("an instance named") == 1
    assert again.stderr.count("already exists") == 1
    for command in (
        ("instances", "show", "nope"),
        ("api", "nope", "products"),
        ("flows", "run", "ct-customers-to-cl-customers", "--source", "nope", "--destination", "ct"),
    ):
        missing = run_cli(tmp_path, *command)
        assert missing.returncode == 2, command
        assert "error: no instance named 'nope'; see `cartwire instances list`" in missing.stderr
        assert missing.stderr.count("no instance named") == 1, missing.stderr
    flow = ("flows", "run", "ct-customers-to-cl-customers", "--source", "ct")
    wrong = run_cli(tmp_path, *flow, "--destination", "ct")
    assert wrong.returncode == 2
    assert "writes customers to commercelayer but instance 'ct' is commercetools" in wrong.stderr
    # Neither is recorded as a failed run that `runs resume` would then accept.
    assert json.loads(run_cli(tmp_path, "runs", "list", "--json").stdout) == []


@pytest.fixture
def sandbox_home(tmp_path: Path, sandboxes: dict[str, Sandbox]) -> Path:
    """A private home that knows the running sandboxes, as `cartwire sandbox up` leaves it."""
    shutil.copy(manager.state_path(), tmp_path / "sandbox.json")
    return tmp_path


@pytest.mark.parametrize("platform", manager.PLATFORMS)
def test_sandbox_flag_needs_only_the_name(
    sandbox_home: Path, sandboxes: dict[str, Sandbox], platform: str
) -> None:
    with Pty(sandbox_home, "instances", "add", platform, "--name", "sb", "--sandbox") as pty:
        code, transcript = pty.finish()
    assert code == 0, transcript
    assert "(required" not in transcript  # not one question
    assert f"added instance sb ({platform}); credentials tested" in transcript
    shown = json.loads(run_cli(sandbox_home, "instances", "show", "sb", "--json").stdout)
    assert shown["fields"]["api_url"] == sandboxes[platform].url


def test_sandbox_flag_asks_the_fields_the_sandbox_does_not_hand_out(
    sandbox_home: Path, ct: Sandbox
) -> None:
    """With --advanced, the constants (which no sandbox hands out) are asked, and nothing else:
    a field with a default keeps it."""
    args = ("instances", "add", "commercetools", "--name", "sb", "--sandbox", "--advanced")
    with Pty(sandbox_home, *args) as pty:
        pty.answer("Grant type (required; one of client_credentials) [client_credentials]", "")
        pty.answer("Client type (required; one of confidential) [confidential]", "")
        code, transcript = pty.finish()
    assert code == 0, transcript
    for field in ("Scope", "Auth URL", "Response authentication token key"):
        assert field not in transcript


def test_sandbox_flag_without_a_terminal(sandbox_home: Path, cl: Sandbox) -> None:
    done = run_cli(sandbox_home, "instances", "add", "commercelayer", "--name", "sb", "--sandbox")
    assert done.returncode == 0, done.stderr
    assert _names(sandbox_home) == ["sb"]


def test_sandbox_flag_without_a_running_sandbox(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "instances", "add", "commercetools", "--name", "sb", "--sandbox")
    assert done.returncode == 2
    assert "no commercetools sandbox is running; start one with `cartwire sandbox up`" in (
        done.stderr
    )


def test_a_running_sandbox_is_offered(sandbox_home: Path, ct: Sandbox) -> None:
    with Pty(sandbox_home, "instances", "add", "commercetools", "--name", "ct") as pty:
        pty.expect(f"A commercetools sandbox is running at {ct.url}.")
        pty.answer("Use it (its URLs and credentials) for this instance? [y/N]", "y")
        transcript = _saved(pty, sandbox_home)
    assert "(required" not in transcript


def test_no_sandbox_offer_once_a_url_is_given(sandbox_home: Path, ct: Sandbox) -> None:
    """Someone who named a host has chosen it: the wizard asks the fields, it offers nothing."""
    creds = ct.credentials
    with _wizard(sandbox_home, ct) as pty:
        pty.answer("Scope (required)", creds["scope"])
        pty.answer("Client ID (required)", creds["client_id"])
        pty.answer(SECRET, creds["client_secret"])
        pty.answer("Project key (required)", creds["project_key"])
        pty.answer(FREE_REGION, "")
        pty.answer(TOKEN_KEY, "")
        transcript = _saved(pty, sandbox_home)
    assert "sandbox is running" not in transcript
