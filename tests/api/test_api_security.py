"""Secure by default, tried on every route the OpenAPI schema lists: no credentials → 401, a
wrong key → 401, a read-only key → 403 on everything that changes something, and no secret in
any answer."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cartwire.sandbox.manager import Sandbox
from tests.api.served import Served, served
from tests.sandbox_instances import fields

OPEN = {("GET", "/health"), ("POST", "/webhooks/{flow}")}  # signed webhooks check their signature
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
CHECKS_ONLY = {("POST", "/api/v1/flows/validate")}  # a POST that changes nothing
PLACEHOLDER = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sandboxes: dict[str, Sandbox]
) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("security") / "home") as server:
        yield server


def _routes(server: Served) -> list[tuple[str, str]]:
    schema: dict[str, Any] = server.call("GET", "/openapi.json").json()
    found = [
        (method.upper(), PLACEHOLDER.sub("1", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if (method.upper(), path) not in OPEN
    ]
    assert len(found) > 20
    return [*found, ("GET", "/openapi.json"), ("GET", "/docs")]


def test_every_route_but_health_and_webhooks_needs_credentials(server: Served) -> None:
    for method, path in _routes(server):
        answer = server.call(method, path, role=None, json={})
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
        wrong = server.call(
            method, path, role=None, json={}, headers={"Authorization": "Bearer cw_wrong"}
        )
        assert wrong.status_code == 401, (method, path)


def test_a_read_only_key_cannot_change_anything(server: Served) -> None:
    changing = [r for r in _routes(server) if r[0] in MUTATING and r not in CHECKS_ONLY]
    assert len(changing) > 15
    for method, path in changing:
        answer = server.call(method, path, role="read-only", json={})
        assert answer.status_code == 403, (method, path, answer.text)
    assert server.call("GET", "/api/v1/instances", role="read-only").status_code == 200


def test_a_user_key_runs_but_does_not_manage(server: Served) -> None:
    assert server.call("POST", "/api/v1/runs/1/retry", role="user").status_code == 404
    assert server.call("DELETE", "/api/v1/instances/x", role="user").status_code == 403
    assert server.call("GET", "/api/v1/apikeys", role="manager").status_code == 403


def test_no_secret_is_in_any_answer(server: Served, ct: Sandbox, tmp_path: Path) -> None:
    secret = fields(ct)["client_secret"]
    body = {"name": "ct-secret", "connector": ct.platform, "fields": fields(ct)}
    assert server.call("POST", "/api/v1/instances", json=body).status_code == 201
    admin_key = server.key("admin")
    for method, path in _routes(server):
        if method != "GET":
            continue
        answer = server.call(method, path.replace("/1", "/ct-secret"))
        assert secret not in answer.text, path
        assert admin_key not in answer.text, path
    keys = server.call("GET", "/api/v1/apikeys").text
    assert server.key("read-only") not in keys
