"""What `cartwire instances add` asks at a terminal: each missing field in the seed's order, with
its label and help, marked required, with its allowed values, a secret marked "input hidden"
and never echoed; one-value constants and advanced fields only with --advanced."""

from pathlib import Path

from cartwire.sandbox.manager import Sandbox
from tests.instances.terminal import Pty

REGIONS = (
    "us-central1.gcp, us-east-2.aws, europe-west1.gcp, eu-central-1.aws, australia-southeast1.gcp"
)
SCOPE = "Scope (required)"
CLIENT_ID = "Client ID (required)"
SECRET = "Secret (required; input hidden)"
PROJECT_KEY = "Project key (required)"
REGION = f"Commercetools server region (required; one of {REGIONS}) [europe-west1.gcp]"
TOKEN_KEY = "Response authentication token key (required) [access_token]"


def _typed(home: Path, ct: Sandbox, prompts: list[tuple[str, str]], *args: str) -> str:
    """Answer `prompts` in order (no credential test: the default hosts are not the sandbox);
    the transcript."""
    with Pty(
        home, "instances", "add", "commercetools", "--name", "typed", "--no-test", *args
    ) as pty:
        for prompt, answer in prompts:
            pty.answer(prompt, answer)
        code, transcript = pty.finish()
    assert code == 0, transcript
    positions = [transcript.index(prompt + ": ") for prompt, _ in prompts]
    assert positions == sorted(positions)
    assert "added instance typed" in transcript
    return transcript


def _basic(ct: Sandbox) -> list[tuple[str, str]]:
    creds = ct.credentials
    return [
        (SCOPE, creds["scope"]),
        (CLIENT_ID, creds["client_id"]),
        (SECRET, creds["client_secret"]),
        (PROJECT_KEY, creds["project_key"]),
        (REGION, ""),
        (TOKEN_KEY, ""),
    ]


def test_prompts_in_seed_order_marked_required_with_the_regions(
    tmp_path: Path, ct: Sandbox
) -> None:
    transcript = _typed(tmp_path, ct, _basic(ct))
    assert "The scopes selected when your API client was created" in transcript
    assert ct.credentials["client_secret"] not in transcript


def test_the_secret_prompt_says_input_hidden(tmp_path: Path, ct: Sandbox) -> None:
    transcript = _typed(tmp_path, ct, _basic(ct))
    assert f"{SECRET}: " in transcript
    assert "Scope (required; input hidden)" not in transcript  # only the secret says so


def test_one_value_constants_are_not_asked_without_advanced(tmp_path: Path, ct: Sandbox) -> None:
    transcript = _typed(tmp_path, ct, _basic(ct))
    assert "Grant type" not in transcript
    assert "Client type" not in transcript
    assert "Auth URL" not in transcript  # nor the advanced fields


def test_advanced_asks_the_constants_and_the_urls(tmp_path: Path, ct: Sandbox) -> None:
    basic = _basic(ct)
    prompts = [
        *basic[:5],
        ("Grant type (required; one of client_credentials) [client_credentials]", ""),
        (TOKEN_KEY, ""),
        ("Client type (required; one of confidential) [confidential]", ""),
        ("Auth URL", ct.url),
        ("API URL", ct.url),
    ]
    transcript = _typed(tmp_path, ct, prompts, "--advanced")
    assert "Base URL of the authorization service" in transcript
