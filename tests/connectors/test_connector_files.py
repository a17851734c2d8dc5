"""The two built-in connector files say exactly what the seed pages say, and a third connector
is just another file."""

import json
from pathlib import Path

import pytest

from cartwire.connectors import ConnectorError, connectors, get_connector
from tests.support import run_cli

CT_FIELDS = [
    ("scope", "Scope", True, None, False),
    ("client_id", "Client ID", True, None, False),
    ("client_secret", "Secret", True, None, True),
    ("project_key", "Project key", True, None, False),
    ("region", "Commercetools server region", True, "europe-west1.gcp", False),
    ("grant_type", "Grant type", True, "client_credentials", False),
    ("token_key", "Response authentication token key", True, "access_token", False),
    ("client_type", "Client type", True, "confidential", False),
    ("auth_url", "Auth URL", False, None, False),
    ("api_url", "API URL", False, None, False),
]
CL_FIELDS = [
    ("domain", "Domain", True, None, False),
    ("client_id", "Client ID", True, None, False),
    ("client_secret", "Client secret", True, None, True),
    ("scope", "Scope", True, None, False),
    ("grant_type", "Grant type", True, "client_credentials", False),
    ("token_key", "Response authentication token key", True, "accessToken", False),
    ("auth_url", "Auth URL", False, None, False),
    ("api_url", "API URL", False, None, False),
]


@pytest.mark.parametrize(
    ("name", "expected"), [("commercetools", CT_FIELDS), ("commercelayer", CL_FIELDS)]
)
def test_fields_follow_the_seed_tables(name: str, expected: list[tuple[object, ...]]) -> None:
    method = get_connector(name).auth_method()
    assert method.name == "OAuth 2 (client credentials)"
    got = [(f.key, f.label, f.required, f.default, f.secret) for f in method.fields]
    assert got == expected
    assert all(f.help for f in method.fields)
    assert [f.key for f in method.fields if f.advanced] == ["auth_url", "api_url"]


def test_commercetools_regions_and_token_request() -> None:
    method = get_connector("commercetools").auth_method()
    assert method.field("region").choices == [
        "us-central1.gcp",
        "us-east-2.aws",
        "europe-west1.gcp",
        "eu-central-1.aws",
        "australia-southeast1.gcp",
    ]
    assert method.token.client_auth == "basic"
    assert method.token.params_in == "form"
    assert method.defaults["auth_url"] == "https://auth.{region}.commercetools.com"
    assert method.base_url == "{api_url}/{project_key}"


def test_commercelayer_token_request() -> None:
    method = get_connector("commercelayer").auth_method()
    assert method.token.client_auth == "body"
    assert method.token.params_in == "json"
    assert method.defaults == {
        "auth_url": "https://auth.commercelayer.io",
        "api_url": "https://{domain}.commercelayer.io",
    }
    assert method.base_url == "{api_url}/api"


def test_show_json(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "connectors", "show", "commercetools", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    fields = document["auth_methods"][0]["fields"]
    assert [f["key"] for f in fields] == [f[0] for f in CT_FIELDS]
    assert set(fields[0]) >= {"key", "label", "required", "default", "secret", "help"}
    assert document["docs"] == ["https://docs.commercetools.com/api/"]


def test_list_and_unknown(tmp_path: Path) -> None:
    listed = json.loads(run_cli(tmp_path, "connectors", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["commercelayer", "commercetools"]
    unknown = run_cli(tmp_path, "connectors", "show", "shopify")
    assert unknown.returncode == 2
    assert "unknown connector 'shopify'" in unknown.stderr


THIRD = """
name: acme
title: Acme
description: A third platform, added as a file.
docs: [https://acme.example.com/docs]
auth_methods:
  - key: oauth2_client_credentials
    name: OAuth 2 (client credentials)
    fields:
      - {key: client_id, label: Client ID, required: true}
      - {key: client_secret, label: Secret, required: true, secret: true}
      - {key: host, label: Host, required: true, kind: url}
    token:
      url: "{host}/token"
      client_auth: basic
      params_in: query
      params: {grant_type: client_credentials}
      token_key: data.token
    base_url: "{host}/v1"
"""


def test_a_third_connector_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "acme.yaml").write_text(THIRD)
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    assert "acme" in connectors()
    done = run_cli(tmp_path, "connectors", "show", "acme", "--json")
    assert json.loads(done.stdout)["auth_methods"][0]["token"]["token_key"] == "data.token"


def test_a_broken_file_names_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "connectors").mkdir()
    broken = THIRD.replace('url: "{host}/token"', 'url: "{hots}/token"')
    (tmp_path / "connectors" / "acme.yaml").write_text(broken)
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    with pytest.raises(ConnectorError, match=r"acme.yaml: .*unknown fields \['hots'\]"):
        connectors()


def test_a_strategy_may_be_named_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`paging: page_number` is how people write it (and how the docs name the kinds)."""
    endpoints = """
endpoints:
  - {name: orders, entity: orders, direction: receive, path: orders, paging: page_number}
"""
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "acme.yaml").write_text(THIRD + endpoints)
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    paging = get_connector("acme").endpoint("orders").paging
    assert paging is not None
    assert (paging.strategy, paging.page_size, paging.options) == ("page_number", None, {})
