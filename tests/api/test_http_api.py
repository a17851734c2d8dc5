"""The HTTP API over real HTTP against `cartwire serve`, with both sandboxes: instances added
with the credential test, flows uploaded, bound and run now, runs read back and retried, and
errors as problem documents. The same module runs on SQLite and on PostgreSQL."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cartwire.sandbox import clients
from cartwire.sandbox.manager import COMMERCELAYER, COMMERCETOOLS, Sandbox
from tests.api.served import Served, served
from tests.flows.triggers_support import channels_flow, wait_for
from tests.sandbox_instances import fields
from tests.store.conftest import fresh_database

PROBLEM = "application/problem+json"

# commercetools channels become Commerce Layer shipping categories (a code and a name only).
CATEGORIES_FLOW = """\
name: {name}
triggers: [manual]
source: {{connector: commercetools, endpoint: channels, incremental: true}}
steps:
  - map:
      fields:
        code: key
        name: key
destination: {{connector: commercelayer, endpoint: shipping_categories}}
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sandboxes: dict[str, Sandbox],
) -> Iterator[Served]:
    url = request.getfixturevalue("pg_url_module") if request.param == "postgresql" else None
    with served(tmp_path_factory.mktemp("api") / "home", url) as server:
        yield server


@pytest.fixture(scope="module")
def pg_url_module() -> Iterator[str]:
    """A fresh PostgreSQL database for the module's server."""
    yield from fresh_database()


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def _instance(server: Served, name: str, sandbox: Sandbox, **changed: str) -> httpx.Response:
    body = {"name": name, "connector": sandbox.platform, "fields": {**fields(sandbox), **changed}}
    return server.call("POST", "/api/v1/instances", json=body)


def _both(server: Served, ct: Sandbox, cl: Sandbox) -> None:
    for name, sandbox in (("ct", ct), ("cl", cl)):
        if server.call("GET", f"/api/v1/instances/{name}").status_code == 404:
            assert _instance(server, name, sandbox).status_code == 201


def _finished(server: Served, run_id: int) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run: dict[str, Any] = server.call("GET", f"/api/v1/runs/{run_id}").json()
        return run if run["status"] not in ("queued", "running") else None

    found: dict[str, Any] = wait_for(done, 120, f"run {run_id} to finish")
    return found


def test_health_needs_no_credentials_and_says_the_database_answers(server: Served) -> None:
    answer = server.call("GET", "/health", role=None)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}


def test_connectors_are_shown_as_connectors_show_json_shows_them(server: Served) -> None:
    listed = server.call("GET", "/api/v1/connectors").json()
    assert {c["name"] for c in listed} >= {COMMERCETOOLS, COMMERCELAYER}
    shown = server.call("GET", f"/api/v1/connectors/{COMMERCELAYER}").json()
    cli = server.cli("connectors", "show", COMMERCELAYER, "--json")
    assert shown == json.loads(cli.stdout)
    field = shown["auth_methods"][0]["fields"][0]
    assert set(field) >= {"key", "label", "required", "default", "secret", "help"}
    _problem(server.call("GET", "/api/v1/connectors/nope"), 422)


def test_an_instance_with_a_wrong_secret_is_refused_and_nothing_is_saved(
    server: Served, cl: Sandbox
) -> None:
    body = _problem(_instance(server, "cl-wrong", cl, client_secret="not-the-secret"), 422)
    assert "failed authentication" in body["detail"]
    assert "not-the-secret" not in json.dumps(body)
    assert server.call("GET", "/api/v1/instances/cl-wrong").status_code == 404


def test_bad_fields_are_named_one_by_one(server: Served, cl: Sandbox) -> None:
    answer = server.call(
        "POST", "/api/v1/instances", json={"name": "bad name!", "connector": COMMERCELAYER}
    )
    body = _problem(answer, 422)
    assert "name" in {e["field"] for e in body["errors"]}
    missing = server.call("POST", "/api/v1/instances", json={"connector": COMMERCELAYER})
    assert [e["field"] for e in _problem(missing, 422)["errors"]] == ["name"]
    key = server.call("POST", "/api/v1/apikeys", json={"name": "bad name!", "role": "user"})
    body = _problem(key, 422)
    assert body["detail"].startswith("name: must be 1 to 64 letters")
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("name", "invalid")]


def test_an_instance_is_added_read_masked_tested_changed_and_deleted(
    server: Served, ct: Sandbox
) -> None:
    secret = fields(ct)["client_secret"]
    created = _instance(server, "ct-crud", ct)
    assert created.status_code == 201, created.text
    assert secret not in created.text
    assert created.json()["fields"]["client_secret"].startswith("•")
    assert _instance(server, "ct-crud", ct).status_code == 409
    listed = server.call("GET", "/api/v1/instances")
    assert "ct-crud" in [i["name"] for i in listed.json()]
    assert secret not in listed.text
    tested = server.call("POST", "/api/v1/instances/ct-crud/test").json()
    assert tested["status"] == "operational"
    changed = server.call(
        "PATCH", "/api/v1/instances/ct-crud", json={"timezone": "Europe/Amsterdam"}
    )
    assert changed.json()["timezone"] == "Europe/Amsterdam"
    wrong = server.call(
        "PATCH", "/api/v1/instances/ct-crud", json={"fields": {"client_secret": "wrong-secret"}}
    )
    _problem(wrong, 422)
    assert server.call("POST", "/api/v1/instances/ct-crud/test").json()["status"] == "operational"
    assert server.call("DELETE", "/api/v1/instances/ct-crud").status_code == 204
    _problem(server.call("GET", "/api/v1/instances/ct-crud"), 404)


def test_a_flow_file_is_validated_uploaded_replaced_and_deleted(server: Served) -> None:
    bad = server.call("POST", "/api/v1/flows/validate", json={"text": "name: x\nsource: 3\n"})
    assert bad.status_code == 200
    assert bad.json()["problems"]
    refused = server.call(
        "POST", "/api/v1/flows", json={"name": "up", "text": "name: up\nsource: 3\n"}
    )
    assert _problem(refused, 422)["errors"]
    _problem(server.call("GET", "/api/v1/flows/up"), 404)
    text = channels_flow("up", "manual")
    created = server.call("POST", "/api/v1/flows", json={"name": "up", "text": text})
    assert created.status_code == 201, created.text
    assert created.json()["origin"] == "user"
    _problem(server.call("POST", "/api/v1/flows", json={"name": "up", "text": text}), 409)
    other = server.call("PUT", "/api/v1/flows/up", json={"text": channels_flow("other", "manual")})
    assert "other" in _problem(other, 409)["detail"]
    assert server.call("PUT", "/api/v1/flows/up", json={"text": text}).status_code == 200
    assert "up" in [f["name"] for f in server.call("GET", "/api/v1/flows").json()]
    assert server.call("DELETE", "/api/v1/flows/up").status_code == 204
    _problem(server.call("GET", "/api/v1/flows/up"), 404)


def test_a_flow_is_bound_run_now_and_a_failed_record_retried(
    server: Served, ct: Sandbox, cl: Sandbox
) -> None:
    _both(server, ct, cl)
    with clients.api_client(ct) as api:
        for key in ("api-north", "api-south", "api-west"):
            api.post(
                "/channels", json={"key": key, "roles": ["InventorySupply"]}
            ).raise_for_status()
    text = CATEGORIES_FLOW.format(name="api-channels")
    server.call("PUT", "/api/v1/flows/api-channels", json={"text": text}).raise_for_status()
    bound = server.call(
        "PUT", "/api/v1/flows/api-channels/binding", json={"source": "ct", "destination": "cl"}
    )
    assert bound.json() == {
        "flow": "api-channels",
        "source": "ct",
        "destination": "cl",
        "enabled": True,
    }
    fault = {"method": "POST", "path": "/api/shipping_categories$", "status": 422, "count": 1}
    httpx.post(f"{cl.url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
    started = server.call("POST", "/api/v1/flows/api-channels/runs", json={})
    assert started.status_code == 202, started.text
    run = _finished(server, started.json()["id"])
    assert (run["status"], run["trigger"]) == ("partially succeeded", "api")
    assert (run["counts"]["read"], run["counts"]["created"], run["counts"]["failed"]) == (3, 2, 1)
    failures = server.call("GET", f"/api/v1/runs/{run['id']}/failures").json()
    assert len(failures) == 1
    assert failures[0]["key"]
    assert {step: sum(c.values()) for step, c in run["steps"].items()} == {
        "read": 3,
        "shipping_categories": 3,
    }
    logs = server.call("GET", f"/api/v1/runs/{run['id']}/logs", params={"limit": 1}).json()
    assert set(logs) == {"lines", "older"}  # paging itself: tests/services/test_run_queries.py
    errors = server.call("GET", f"/api/v1/runs/{run['id']}/logs", params={"errors_only": True})
    assert all(line["level"] == "error" for line in errors.json()["lines"])
    listed = server.call("GET", "/api/v1/runs", params={"flow": "api-channels"}).json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    assert listed["total"] == 1
    partial = {"status": "partially succeeded", "instance": "cl", "trigger": "api"}
    assert server.call("GET", "/api/v1/runs", params=partial).json()["total"] >= 1
    bad = server.call("GET", "/api/v1/runs", params={"status": "done"})
    assert [e["field"] for e in _problem(bad, 422)["errors"]] == ["status"]
    naive = server.call("GET", "/api/v1/runs", params={"since": "2026-01-01T00:00:00"})
    assert [e["field"] for e in _problem(naive, 422)["errors"]] == ["since"]
    retried = server.call("POST", f"/api/v1/runs/{run['id']}/retry")
    assert retried.status_code == 202, retried.text
    again = _finished(server, retried.json()["id"])
    assert (again["status"], again["retry_of"], again["counts"]["created"]) == (
        "succeeded",
        run["id"],
        1,
    )
    metrics = server.call("GET", "/metrics")
    assert metrics.status_code == 200
    assert 'cartwire_runs{status="succeeded"}' in metrics.text


def test_a_payload_run_processes_the_records_given(
    server: Served, ct: Sandbox, cl: Sandbox
) -> None:
    _both(server, ct, cl)
    server.call(
        "PUT",
        "/api/v1/flows/api-payload",
        json={"text": CATEGORIES_FLOW.format(name="api-payload")},
    ).raise_for_status()
    records = [{"id": "c1", "key": "payload-one"}, {"id": "c2", "key": "payload-two"}]
    started = server.call(
        "POST",
        "/api/v1/flows/api-payload/runs",
        json={"source": "ct", "destination": "cl", "records": records},
    )
    assert started.status_code == 202, started.text
    run = _finished(server, started.json()["id"])
    assert (run["trigger"], run["counts"]["read"], run["counts"]["created"]) == ("payload", 2, 2)
    limited = server.call(
        "POST",
        "/api/v1/flows/api-payload/runs",
        json={"source": "ct", "destination": "cl", "records": records, "limit": 1},
    )
    assert [e["field"] for e in _problem(limited, 422)["errors"]] == ["limit"]


def test_unknown_runs_and_routes_answer_problems(server: Served) -> None:
    _problem(server.call("GET", "/api/v1/runs/999999"), 404)
    _problem(server.call("POST", "/api/v1/runs/999999/retry"), 404)
    _problem(server.call("GET", "/api/v1/nowhere"), 404)
    _problem(server.call("GET", "/api/v1/runs/not-a-number"), 422)
    _problem(server.call("POST", "/api/v1/flows/nope/runs", json={}), 404)


def test_request_bodies_are_size_limited(server: Served) -> None:
    huge = "x" * (6 * 1024 * 1024)
    answer = server.call("POST", "/api/v1/flows/validate", json={"text": huge})
    _problem(answer, 413)


def test_the_schema_and_docs_need_credentials_and_work_offline(server: Served) -> None:
    assert server.call("GET", "/openapi.json", role=None).status_code == 401
    schema = server.call("GET", "/openapi.json").json()
    assert "/api/v1/instances" in schema["paths"]
    docs = server.call("GET", "/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert server.call("GET", "/static/vendor/swagger-ui-bundle.js", role=None).status_code == 200


def test_the_webhook_receiver_lives_in_the_same_app(server: Served) -> None:
    answer = server.call("POST", "/webhooks/no-such-flow", role=None, content=b"{}")
    assert answer.status_code == 404
    assert server.call("GET", "/healthz", role=None).json() == {"ok": True}
