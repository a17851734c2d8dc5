"""`cartwire instances …` end to end: the real CLI, the real store, the real sandboxes."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.processes import free_port
from tests.instances.support import add_from_stdin
from tests.sandbox_instances import set_args
from tests.support import run_cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def add_ct(home: Path, ct: Sandbox, name: str = "ct", *extra: str, **overrides: str) -> Any:
    return run_cli(
        home,
        "instances",
        "add",
        "commercetools",
        "--name",
        name,
        *set_args(ct, **overrides),
        "--set-env",
        "client_secret=CT_SECRET",
        *extra,
        env={"CT_SECRET": overrides.get("client_secret", ct.credentials["client_secret"])},
    )


def listed(home: Path) -> list[str]:
    return [i["name"] for i in json.loads(run_cli(home, "instances", "list", "--json").stdout)]


def test_add_commercetools_then_list_show(home: Path, ct: Sandbox) -> None:
    done = add_ct(home, ct, "ct", "--json", "--timezone", "Europe/Berlin")
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["tested"] is True
    assert added["timezone"] == "Europe/Berlin"
    secret = ct.credentials["client_secret"]
    assert added["fields"]["client_secret"] == "••••" + secret[-4:]
    assert added["fields"]["region"] == "europe-west1.gcp"
    assert added["fields"]["grant_type"] == "client_credentials"
    assert added["fields"]["token_key"] == "access_token"
    assert added["fields"]["client_type"] == "confidential"
    assert listed(home) == ["ct"]
    shown = json.loads(run_cli(home, "instances", "show", "ct", "--json").stdout)
    assert shown["fields"] == added["fields"]
    plain = run_cli(home, "instances", "show", "ct")
    assert secret not in plain.stdout
    assert "••••" in plain.stdout


def test_add_commercelayer_secret_from_stdin(home: Path, cl: Sandbox) -> None:
    done = add_from_stdin(
        home,
        cl,
        "cl",
        "--rate-limit-amount",
        "10",
        "--rate-limit-unit",
        "second",
        "--pool",
        "shared",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["fields"]["token_key"] == "accessToken"
    assert added["rate_limit"] == {"amount": 10, "unit": "second"}
    assert added["pool"] == "shared"


def test_the_token_key_twin_is_reported_once_per_instance(home: Path, cl: Sandbox) -> None:
    """The connector's default `accessToken` is not what Commerce Layer answers: adding the
    instance logs that once, `instances test` says it, and tokens fetched later say nothing."""
    assert add_from_stdin(home, cl, "cl").returncode == 0
    tested = run_cli(home, "instances", "test", "cl", "--json")
    assert tested.returncode == 0, tested.stderr
    assert "'access_token'" in json.loads(tested.stdout)["note"]
    for _ in range(2):
        assert run_cli(home, "api", "cl", "skus").returncode == 0
    log = (home / "logs" / "cartwire.log").read_text()
    assert log.count("cartwire read 'access_token' instead") == 1, log


def test_every_bad_field_is_named(home: Path, ct: Sandbox) -> None:
    done = run_cli(
        home,
        "instances",
        "add",
        "commercetools",
        "--name",
        "bad",
        "--set",
        "scope=manage_products:other-project",
        "--set",
        "project_key=My Shop",
        "--set",
        "region=mars-north1.gcp",
        "--set",
        "grant_type=password",
        "--set",
        "client_secret=s3cr3t-value-123",
        "--no-test",
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    expectations = {
        "client_id (Client ID): required": True,
        "project_key (Project key): expected 2 to 36 lowercase": True,
        "region (Commercetools server region): expected one of us-central1.gcp": True,
        "grant_type (Grant type): expected one of client_credentials": True,
    }
    for start in expectations:
        assert any(start in line for line in lines), (start, done.stderr)
    assert "s3cr3t-value-123" not in done.stderr + done.stdout
    bad_url = add_ct(home, ct, "bad", auth_url="ftp://example.com")
    assert bad_url.returncode == 2
    assert "auth_url (Auth URL): expected an http(s) URL" in bad_url.stderr
    assert listed(home) == []


def test_scope_must_name_the_project(home: Path, ct: Sandbox) -> None:
    done = add_ct(home, ct, "ct", scope="manage_products:other-project")
    assert done.returncode == 2
    assert "scope (Scope): 'manage_products:other-project' names project 'other-project'" in (
        done.stderr
    )


def test_unknown_region_allowed_with_explicit_urls(home: Path, ct: Sandbox) -> None:
    done = add_ct(home, ct, "ct", region="cn-northwest-1.aws")
    assert done.returncode == 0, done.stderr


def test_commercelayer_syntax(home: Path, cl: Sandbox) -> None:
    done = run_cli(
        home,
        "instances",
        "add",
        "commercelayer",
        "--name",
        "cl",
        *set_args(cl, domain="shop.commercelayer.io", scope="market:europe"),
        "--set",
        "client_secret=x",
    )
    assert done.returncode == 2
    assert "domain (Domain): expected your organization's slug only" in done.stderr
    assert "scope (Scope): expected market|store|stock_location:id|code:VALUE" in done.stderr


def test_wrong_secret_is_not_saved(home: Path, ct: Sandbox) -> None:
    done = add_ct(home, ct, "ct", client_secret="definitely-wrong-secret")
    assert done.returncode == 1
    assert "failed authentication" in done.stderr
    assert "invalid_client" in done.stderr
    assert "definitely-wrong-secret" not in done.stderr
    assert listed(home) == []


def test_invalid_scope_is_not_saved(home: Path, cl: Sandbox) -> None:
    done = run_cli(
        home,
        "instances",
        "add",
        "commercelayer",
        "--name",
        "cl",
        *set_args(cl, scope="market:code:atlantis"),
        "--set-env",
        "client_secret=CL_SECRET",
        env={"CL_SECRET": cl.credentials["client_secret"]},
    )
    assert done.returncode == 1
    assert "invalid_scope" in done.stderr
    assert listed(home) == []


def test_unreachable_is_not_saved(home: Path, ct: Sandbox) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    done = add_ct(home, ct, "ct", auth_url=dead)
    assert done.returncode == 1
    assert "unreachable" in done.stderr
    assert "127.0.0.1" in done.stderr
    assert listed(home) == []


def test_no_test_then_test(home: Path, ct: Sandbox) -> None:
    assert add_ct(home, ct, "bad", "--no-test", client_secret="wrong-but-saved").returncode == 0
    failed = run_cli(home, "instances", "test", "bad", "--json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["status"] == "failed authentication"
    assert add_ct(home, ct, "good").returncode == 0
    ok = run_cli(home, "instances", "test", "good", "--json")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["status"] == "operational"
    assert result["scope"] == ct.credentials["scope"]
    assert result["lifetime_seconds"] == 172800


def test_update_keeps_old_values_when_the_test_fails(home: Path, ct: Sandbox) -> None:
    assert add_ct(home, ct, "ct").returncode == 0
    bad = run_cli(home, "instances", "update", "ct", "--set", "client_secret=nope-nope-nope")
    assert bad.returncode == 1
    assert "invalid_client" in bad.stderr
    assert run_cli(home, "instances", "test", "ct").returncode == 0
    tz = run_cli(home, "instances", "update", "ct", "--timezone", "Asia/Tokyo", "--json")
    assert tz.returncode == 0, tz.stderr
    assert json.loads(tz.stdout)["timezone"] == "Asia/Tokyo"
    bad_tz = run_cli(home, "instances", "update", "ct", "--timezone", "Mars/Olympus")
    assert bad_tz.returncode == 2
    assert "timezone (Time zone): unknown time zone 'Mars/Olympus'" in bad_tz.stderr


def test_names_unique_and_valid_and_remove(home: Path, ct: Sandbox) -> None:
    assert add_ct(home, ct, "ct").returncode == 0
    again = add_ct(home, ct, "ct")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    bad = add_ct(home, ct, "no spaces please")
    assert bad.returncode == 2
    assert "name (Name): expected 1 to 64 letters" in bad.stderr
    assert run_cli(home, "instances", "remove", "ct").returncode == 0
    assert listed(home) == []
    missing = run_cli(home, "instances", "remove", "ct")
    assert missing.returncode == 2
    assert "no instance named" in missing.stderr


def test_rate_limit_needs_amount_and_unit(home: Path, ct: Sandbox) -> None:
    done = add_ct(home, ct, "ct", "--rate-limit-amount", "5")
    assert done.returncode == 2
    assert "rate_limit (Rate limit): give both an amount and a unit" in done.stderr


def test_api_calls_share_one_token(home: Path, ct: Sandbox) -> None:
    """20 consecutive CLI processes, one token request (the token is cached in the store)."""
    assert add_ct(home, ct, "ct").returncode == 0
    httpx.delete(f"{ct.url}/_sandbox/counters").raise_for_status()
    for _ in range(20):
        done = run_cli(home, "api", "ct", "products?limit=1")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["limit"] == 1
    counters = httpx.get(f"{ct.url}/_sandbox/counters").json()
    assert counters["token_requests"] == 1


def test_remove_refused_while_a_flow_uses_it(home: Path, ct: Sandbox, cl: Sandbox) -> None:
    assert add_ct(home, ct, "ct").returncode == 0
    cl_add = add_from_stdin(home, cl, "cl")
    assert cl_add.returncode == 0, cl_add.stderr
    bound = run_cli(
        home, "flows", "enable", "ct-products-to-cl-skus", "--source", "ct", "--destination", "cl"
    )
    assert bound.returncode == 0, bound.stderr
    refused = run_cli(home, "instances", "remove", "cl")
    assert refused.returncode == 2
    assert "used by the flows ct-products-to-cl-skus" in refused.stderr.replace("\n", " ")
    assert "cl" in listed(home)
    forced = run_cli(home, "instances", "remove", "cl", "--force")
    assert forced.returncode == 0, forced.stderr
    assert listed(home) == ["ct"]
    flows = json.loads(run_cli(home, "flows", "list", "--json").stdout)
    assert all(f["source"] is None for f in flows)
