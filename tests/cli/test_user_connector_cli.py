"""A user's own connector file in `$CARTWIRE_HOME/connectors/`, read end to end with
`cartwire get` against a real local server that pages by `page[number]`/`page[size]` and reports
its total in `meta.total`: all 5,968 records when the file names those parameters, and a failure
with the numbers when it does not (it used to print 10 records and exit 0)."""

import json
from pathlib import Path

import pytest

from cartwire.instances.service import Instances
from cartwire.store import Store
from tests.http.local_server import serve
from tests.support import run_cli

RECORDS = 5968

CONNECTOR = """
name: acme
title: Acme
description: A platform that pages the JSON:API way.
docs: [https://acme.example.com/docs]
auth_methods:
  - key: oauth2_client_credentials
    name: OAuth 2 (client credentials)
    fields:
      - {key: host, label: Host, required: true, kind: url}
      - {key: client_id, label: Client ID, required: true}
      - {key: client_secret, label: Client secret, required: true, secret: true}
    token:
      url: "{host}/token"
      client_auth: basic
      params_in: form
      params: {grant_type: client_credentials}
      token_key: access_token
    base_url: "{host}/api"
endpoints:
  - name: orders
    entity: orders
    direction: receive
    path: orders
    data_path: data
    paging:
      strategy: page_number
      page_size: 100
"""
NAMED = """      options:
        page_param: "page[number]"
        size_param: "page[size]"
        total_path: meta.total
"""


def instance(home: Path, url: str, connector: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "connectors").mkdir()
    (home / "connectors" / "acme.yaml").write_text(connector, encoding="utf-8")
    monkeypatch.setenv("CARTWIRE_HOME", str(home))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    given = {"host": url, "client_id": "me", "client_secret": "s3cret-value"}
    with Store.open() as store:
        Instances(store).add("acme", "acme", given, test=False)


def test_the_parameter_names_in_the_file_read_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(RECORDS) as (url, served):
        instance(tmp_path, url, CONNECTOR + NAMED, monkeypatch)
        done = run_cli(tmp_path, "get", "acme", "orders")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == list(
        range(1, RECORDS + 1)
    )
    # The server caps page[size] at 25: said once, and the walk reads on in its pages.
    assert "warning: endpoint 'orders': asked for 100 records a page (page[size]=100) but " in (
        done.stderr
    )
    assert "the server returned 25" in done.stderr
    assert f"{RECORDS} record(s) from acme orders" in done.stderr
    assert sum(1 for _, path, _ in served.requests if path == "/api/orders") == 239


def test_a_file_without_them_fails_with_the_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(RECORDS) as (url, _):
        instance(tmp_path, url, CONNECTOR, monkeypatch)
        done = run_cli(tmp_path, "get", "acme", "orders")
    assert done.returncode == 1, done.stderr
    error = done.stderr.splitlines()[-1]
    assert error.startswith("error: endpoint 'orders': page 2 (page=2, page_size=100) returned ")
    assert "Read 10 record(s) of the 5,968 records (at 'meta.total') in 1 page(s)" in error
    assert "(e.g. page[number] and page[size]), set paging.options.page_param and size_param" in (
        error
    )
    assert "s3cret-value" not in done.stderr + done.stdout
