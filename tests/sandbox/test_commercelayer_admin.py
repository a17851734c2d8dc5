"""The admin API: health, counters, faults, reset, config, bulk load, stable baseline."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import httpx
import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import Api, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()
api = cl_fixtures.api_fixture()


def arm(server: ClServer, **fault: Any) -> str:
    response = server.admin("POST", "faults", json=fault)
    assert response.status_code == 201, response.text
    fault_id: str = response.json()["id"]
    return fault_id


def test_health(server: ClServer) -> None:
    response = server.admin("GET", "health")
    assert response.json() == {"status": "ok", "platform": "commercelayer"}


def test_counters(server: ClServer) -> None:
    server.admin("DELETE", "counters")
    api = server.api()
    httpx.post(f"{server.url}/oauth/token", json={"grant_type": "client_credentials"})
    api.get("/skus", **{"page[size]": "5"})
    api.get("/skus")
    api.get("/markets/abc")
    httpx.get(f"{server.url}/api/skus")
    server.admin("POST", "faults", json={"path": "/api/skus", "status": 429})
    assert httpx.get(f"{server.url}/api/skus").status_code == 429
    server.admin("GET", "health")
    counters = server.admin("GET", "counters").json()
    assert counters == {
        "token_requests": 2,
        "api_requests": 5,
        "throttled": 1,
        "paths": {"GET /api/skus": 4, "GET /api/markets/abc": 1},
    }
    arrivals = server.admin("GET", "arrivals").json()["arrivals"]
    assert len(arrivals) == 5  # the API requests, not the token requests nor the admin's
    assert arrivals == sorted(arrivals)
    assert server.admin("DELETE", "counters").status_code == 204
    assert server.admin("GET", "counters").json() == {
        "token_requests": 0,
        "api_requests": 0,
        "throttled": 0,
        "paths": {},
    }
    assert server.admin("GET", "arrivals").json() == {"arrivals": []}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "TOO_MANY_REQUESTS"),
        (500, "INTERNAL_SERVER_ERROR"),
        (502, "BAD_GATEWAY"),
        (503, "SERVICE_UNAVAILABLE"),
    ],
)
def test_status_faults(api: Api, server: ClServer, status: int, code: str) -> None:
    arm(server, method="GET", path="/skus$", count=2, status=status, retry_after=3)
    for _ in range(2):
        response = api.get("/skus")
        assert response.status_code == status
        assert response.headers["retry-after"] == "3"
        assert response.headers["content-type"] == "application/vnd.api+json"
        error = response.json()["errors"][0]
        assert error["code"] == code
        assert error["status"] == str(status)
        assert set(error) == {"title", "detail", "code", "status"}
    assert api.get("/skus").status_code == 200
    assert api.get("/markets").status_code == 200


def test_fault_matching_and_listing(api: Api, server: ClServer) -> None:
    first = arm(server, method="POST", path="^/api/skus", count=3, status=503)
    arm(server, path="/oauth/token", status=500)
    listed = server.admin("GET", "faults").json()
    assert [f["id"] for f in listed] == [first, listed[1]["id"]]
    assert listed[0]["count"] == 3
    assert api.get("/skus").status_code == 200, "method must match"
    assert api.create("skus", {"code": "F"}).status_code == 503
    assert server.admin("GET", "faults").json()[0]["count"] == 2

    token = httpx.post(f"{server.url}/oauth/token", json={"grant_type": "client_credentials"})
    assert token.status_code == 500
    assert token.json()["errors"][0]["status"] == 500, "auth errors carry a numeric status"
    assert len(server.admin("GET", "faults").json()) == 1

    assert server.admin("DELETE", "faults").status_code == 204
    assert server.admin("GET", "faults").json() == []
    assert api.create("skus", {"code": "F"}).status_code == 422


def test_admin_paths_are_never_faulted(server: ClServer) -> None:
    arm(server, status=500, count=5)
    assert server.admin("GET", "health").status_code == 200
    assert server.admin("GET", "counters").status_code == 200


def test_delay_fault(api: Api, server: ClServer) -> None:
    arm(server, path="/skus", delay=0.5)
    began = time.monotonic()
    response = api.get("/skus")
    assert response.status_code == 200
    assert time.monotonic() - began >= 0.5
    assert server.admin("GET", "faults").json() == []  # spent: the next request is not delayed


def test_drop_fault(api: Api, server: ClServer) -> None:
    arm(server, path="/skus", drop=True)
    with pytest.raises(httpx.TransportError):
        api.get("/skus")
    assert api.get("/skus").status_code == 200
    assert server.process.poll() is None
    assert server.errors() == "", "a deliberate drop is not an error worth logging"


def held(server: ClServer, count: int) -> list[dict[str, Any]]:
    """The held requests, once the sandbox holds `count` of them (pytest-timeout ends a hang)."""
    found: list[dict[str, Any]] = server.admin("GET", "held").json()
    while len(found) < count:
        time.sleep(0.01)
        found = server.admin("GET", "held").json()
    return found


def test_hold_fault_holds_until_released(api: Api, server: ClServer) -> None:
    fault_id = arm(server, method="GET", path="/skus$", count=2, hold=True)
    with ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(api.get, "/skus") for _ in range(2)]
        first, second = held(server, 2)
        assert (first["fault"], first["method"], first["path"]) == (fault_id, "GET", "/api/skus")
        assert first["id"] != second["id"]
        assert api.get("/markets").status_code == 200, "only matching requests are held"

        released = server.admin("POST", "release", json={"id": first["id"]})
        assert released.json() == {"released": [first["id"]]}
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        assert [f.result().status_code for f in done] == [200]
        assert server.admin("GET", "held").json() == [second]

        assert server.admin("POST", "release", json={}).json() == {"released": [second["id"]]}
        assert [f.result().status_code for f in pending] == [200, 200]
    assert server.admin("GET", "held").json() == []
    assert server.admin("GET", "faults").json() == []
    assert server.admin("POST", "release", json={"id": first["id"]}).status_code == 404
    assert server.admin("POST", "release", json={"id": 1}).status_code == 400


def test_reset_releases_held_requests_and_the_rest_of_the_fault_applies(
    api: Api, server: ClServer
) -> None:
    arm(server, path="/skus$", hold=True, status=503)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(api.get, "/skus")
        held(server, 1)
        assert server.admin("POST", "reset").status_code == 204
        assert pending.result().status_code == 503
    assert server.admin("GET", "held").json() == []


def test_stopping_releases_held_requests() -> None:
    other = cl_fixtures.start_server("--rate-limits", "off")
    try:
        arm(other, path="/skus$", hold=True)
        with other.api() as client, ThreadPoolExecutor(1) as pool:
            pending = pool.submit(client.get, "/skus")
            held(other, 1)
            assert cl_fixtures.stop_server(other) == 0
            assert pending.result().status_code == 200
    finally:
        if other.process.poll() is None:
            other.process.kill()
            other.process.wait()


@pytest.mark.parametrize(
    "fault",
    [{"count": 0}, {"status": 42}, {"path": "("}, {"drop": "yes"}, {"hold": 1}, {"colour": 1}, [1]],
)
def test_invalid_faults(server: ClServer, fault: Any) -> None:
    response = server.admin("POST", "faults", json=fault)
    assert response.status_code == 400
    assert "error" in response.json()


def test_reset_restores_everything(api: Api, server: ClServer) -> None:
    baseline = {t: api.first_id(t) for t in ("markets", "price_lists", "stock_locations")}
    api.sku("RESET-1")
    arm(server, path="/nothing", status=500)
    server.admin("PATCH", "config", json={"token_lifetime": 5, "rate_limits": "live"})
    assert server.admin("POST", "reset").status_code == 204
    assert api.get("/skus").json()["meta"]["record_count"] == 0
    assert {t: api.first_id(t) for t in baseline} == baseline
    assert server.admin("GET", "faults").json() == []
    config = server.admin("GET", "config").json()
    assert config["token_lifetime"] == 7200
    assert config["rate_limits"]["profile"] == "off"
    counters = server.admin("GET", "counters").json()
    assert counters["token_requests"] == 0


def test_config(server: ClServer) -> None:
    assert server.admin("GET", "config").json() == {
        "token_lifetime": 7200,
        "rate_limits": {
            "profile": "off",
            "enabled": False,
            "cacheable_average": 500,
            "cacheable_burst": 125,
            "average": 100,
            "burst": 25,
            "average_window": 60.0,
            "burst_window": 10.0,
            "oauth": 30,
        },
    }
    live = server.admin("PATCH", "config", json={"rate_limits": "live"}).json()["rate_limits"]
    assert live["profile"] == "live"
    assert (live["cacheable_average"], live["cacheable_burst"]) == (1000, 250)
    assert (live["average"], live["burst"]) == (200, 50)
    custom = server.admin("PATCH", "config", json={"rate_limits": {"burst": 7}}).json()
    assert custom["rate_limits"]["profile"] == "custom"
    assert custom["rate_limits"]["burst"] == 7
    assert custom["rate_limits"]["average"] == 200
    for bad in (
        {"token_lifetime": 0},
        {"rate_limits": "fast"},
        {"rate_limits": {"x": 1}},
        {"y": 1},
    ):
        assert server.admin("PATCH", "config", json=bad).status_code == 400


def test_bulk_load(api: Api, server: ClServer) -> None:
    category = api.first_id("shipping_categories")
    price_list = api.first_id("price_lists")
    link = {"shipping_category": {"type": "shipping_categories", "id": category}}
    loaded = server.admin(
        "POST",
        "load",
        json={
            "type": "skus",
            "records": [
                {
                    "id": "MySkuId001",
                    "attributes": {"code": "L-1", "name": "L1"},
                    "relationships": link,
                },
                {"attributes": {"code": "L-2", "name": "L2"}, "relationships": link},
            ],
        },
    )
    assert loaded.status_code == 200
    ids = loaded.json()["ids"]
    assert ids[0] == "MySkuId001"
    assert len(ids[1]) == 10
    sku = api.get("/skus/MySkuId001", include="shipping_category").json()
    assert sku["data"]["attributes"]["do_not_ship"] is False, "defaults are filled"
    assert sku["included"][0]["id"] == category
    by_code = api.get("/skus", **{"filter[q][code_eq]": "L-2"}).json()
    assert [s["id"] for s in by_code["data"]] == [ids[1]], "indexes are filled"

    prices = server.admin(
        "POST",
        "load",
        json={
            "type": "prices",
            "records": [
                {
                    "attributes": {"sku_code": "L-1", "amount_cents": 2500},
                    "relationships": {"price_list": {"type": "price_lists", "id": price_list}},
                }
            ],
        },
    )
    price = api.get(f"/prices/{prices.json()['ids'][0]}").json()["data"]["attributes"]
    assert price["formatted_amount"] == "€25,00", "derived fields are filled"
    assert price["currency_code"] == "EUR"
    related = api.get("/skus/MySkuId001/prices").json()
    assert related["meta"]["record_count"] == 1

    market = {"market": {"type": "markets", "id": api.first_id("markets")}}
    orders = server.admin(
        "POST", "load", json={"type": "orders", "records": [{"relationships": market}] * 2}
    ).json()["ids"]
    numbers = [api.get(f"/orders/{i}").json()["data"]["attributes"]["number"] for i in orders]
    assert all(n.isdigit() for n in numbers)
    assert len(set(numbers)) == 2
    order = {"order": {"type": "orders", "id": orders[0]}}
    server.admin(
        "POST",
        "load",
        json={
            "type": "line_items",
            "records": [
                {
                    "attributes": {"sku_code": "L-1", "quantity": 2, "unit_amount_cents": 700},
                    "relationships": order,
                }
            ],
        },
    ).raise_for_status()
    totals = api.get(f"/orders/{orders[0]}").json()["data"]["attributes"]
    assert totals["total_amount_cents"] == 1400, "orders are refreshed after loading line items"
    assert totals["formatted_total_amount"] == "€14,00"


def test_bulk_load_with_one_timestamp(api: Api, server: ClServer) -> None:
    link = {
        "shipping_category": {
            "type": "shipping_categories",
            "id": api.first_id("shipping_categories"),
        }
    }
    records = [
        {"attributes": {"code": f"T-{n}", "name": "t"}, "relationships": link} for n in range(3)
    ]
    body = {"type": "skus", "records": records, "timestamp": "2024-05-01T10:00:00.123Z"}
    server.admin("POST", "load", json=body).raise_for_status()
    found = api.get("/skus", **{"filter[q][updated_at_eq]": "2024-05-01T10:00:00.123Z"}).json()
    assert sorted(s["attributes"]["code"] for s in found["data"]) == ["T-0", "T-1", "T-2"]
    assert {s["attributes"]["created_at"] for s in found["data"]} == {"2024-05-01T10:00:00.123Z"}
    bad = server.admin("POST", "load", json={**body, "timestamp": "yesterday"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"type": "unicorns", "records": []},
        {"type": "skus", "records": [{"attributes": {"colour": "red"}}]},
        {"type": "skus", "records": [{"attributes": {"code": "X"}, "relationships": {"nope": {}}}]},
        {
            "type": "skus",
            "records": [
                {
                    "attributes": {"code": "X"},
                    "relationships": {
                        "shipping_category": {"type": "shipping_categories", "id": "GHOSTGHOST"}
                    },
                }
            ],
        },
        {"type": "skus", "records": [{"attributes": {"code": "X"}}, {"attributes": {"code": "X"}}]},
        {"type": "skus", "records": [{"id": "a/b"}]},
        {
            "type": "skus",
            "records": [{"relationships": {"shipping_category": {"type": "skus", "id": "x"}}}],
        },
        {"type": "skus"},
    ],
)
def test_bulk_load_rejects_inconsistent_records(server: ClServer, body: Any) -> None:
    response = server.admin("POST", "load", json=body)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_bulk_load_takes_fifty_thousand_skus_in_one_request(api: Api, server: ClServer) -> None:
    """Its speed is measured by benchmarks/bench_sandbox_commercelayer.py, not asserted here."""
    category = api.first_id("shipping_categories")
    link = {"shipping_category": {"type": "shipping_categories", "id": category}}
    records = [
        {"attributes": {"code": f"FAST-{n:06d}", "name": f"Fast {n}"}, "relationships": link}
        for n in range(50_000)
    ]
    loaded = server.admin("POST", "load", json={"type": "skus", "records": records})
    assert loaded.status_code == 200
    assert len(loaded.json()["ids"]) == 50_000
    page = api.get("/skus", sort="id", **{"page[size]": "25"}).json()
    assert page["meta"]["record_count"] == 50_000


def test_baseline_ids_are_stable_across_restarts(api: Api) -> None:
    types = (
        "markets",
        "merchants",
        "price_lists",
        "stock_locations",
        "inventory_models",
        "inventory_stock_locations",
        "shipping_categories",
        "addresses",
    )
    here = {t: sorted(i["id"] for i in api.get(f"/{t}").json()["data"]) for t in types}
    other = cl_fixtures.start_server("--rate-limits", "off")
    try:
        with other.api() as client:
            there = {t: sorted(i["id"] for i in client.get(f"/{t}").json()["data"]) for t in types}
        organization = other.api().get("/organization").json()["data"]["id"]
    finally:
        cl_fixtures.stop_server(other)
    assert there == here
    assert organization == api.get("/organization").json()["data"]["id"]


def test_sandbox_imports_no_client_code() -> None:
    """Client and server must not share code: a shared misunderstanding would pass every test."""
    probe = (
        "import sys, cartwire.sandbox.commercelayer.__main__;"
        "print(sorted(m for m in sys.modules if m.startswith('cartwire')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules = ast.literal_eval(done.stdout.strip())
    assert modules
    assert all(
        m in ("cartwire", "cartwire.sandbox") or m.startswith("cartwire.sandbox.commercelayer")
        for m in modules
    ), modules


def test_head_is_answered_like_get(api: Api) -> None:
    response = api.raw("HEAD", "/skus")
    assert response.status_code == 200
    assert response.content == b""
