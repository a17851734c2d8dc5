"""The commercetools sandbox (`src/cartwire/sandbox/commercetools/start.mjs`) over real HTTP.

Each test here pins one gap the start script closes between `@labdigital/commercetools-mock`
and the real commercetools API (facts §3.5), or one piece of the admin API (docs/sandbox.md).
The server is started once for this module on a free loopback port and reset before each test.
"""

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cartwire.sandbox.processes import free_port

START = Path(__file__).resolve().parents[2] / "src/cartwire/sandbox/commercetools/start.mjs"
PROJECT = "test-project"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret-Zq9"
LIFETIME = 172800

INVALID_CLIENT = "Please provide valid client credentials using HTTP Basic Authentication."
INVALID_SCOPE = "Malformed parameter: scope: Invalid scope."
MISSING_TOKEN = (
    "This endpoint requires an access token. You can get one from the authorization service."
)

Json = dict[str, Any]


@dataclass(frozen=True)
class CtServer:
    base_url: str
    project_key: str
    client_id: str
    client_secret: str


def _spawn(port: int, **extra: str) -> subprocess.Popen[bytes]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    env = {
        **os.environ,
        "CARTWIRE_CT_PORT": str(port),
        "CARTWIRE_CT_PROJECT_KEY": PROJECT,
        "CARTWIRE_CT_CLIENT_ID": CLIENT_ID,
        "CARTWIRE_CT_CLIENT_SECRET": CLIENT_SECRET,
        **extra,
    }
    env.pop("CARTWIRE_CT_LOG", None)
    return subprocess.Popen(
        [node, str(START)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"sandbox exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"{base_url}/_sandbox/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("sandbox did not become healthy")


@pytest.fixture(scope="module")
def ct_server() -> Iterator[CtServer]:
    port = free_port()
    process = _spawn(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url)
        yield CtServer(base_url, PROJECT, CLIENT_ID, CLIENT_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _reset(ct_server: CtServer) -> None:
    httpx.post(f"{ct_server.base_url}/_sandbox/reset", timeout=30).raise_for_status()


# -- helpers ---------------------------------------------------------------------------------


def token_response(server: CtServer, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("auth", (server.client_id, server.client_secret))
    return httpx.post(f"{server.base_url}/oauth/token", **kwargs)


def new_token(server: CtServer, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = token_response(server, data=data)
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


@pytest.fixture
def api(ct_server: CtServer) -> Iterator[httpx.Client]:
    """A client for `{base}/{projectKey}` with a fresh bearer token."""
    headers = {"Authorization": f"Bearer {new_token(ct_server)}"}
    with httpx.Client(
        base_url=f"{ct_server.base_url}/{ct_server.project_key}", headers=headers, timeout=30
    ) as client:
        yield client


def project_url(client: httpx.Client) -> str:
    """`GET /{projectKey}` (the project itself); base_url would add a trailing slash."""
    return str(client.base_url).rstrip("/")


def load(server: CtServer, kind: str, drafts: list[Json]) -> None:
    response = httpx.post(
        f"{server.base_url}/_sandbox/load", json={"type": kind, "drafts": drafts}, timeout=120
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"loaded": len(drafts)}


def admin(server: CtServer, method: str, path: str, body: Json | None = None) -> httpx.Response:
    return httpx.request(method, f"{server.base_url}/_sandbox/{path}", json=body, timeout=30)


def money(currency: str, cents: int) -> Json:
    return {
        "type": "centPrecision",
        "currencyCode": currency,
        "centAmount": cents,
        "fractionDigits": 2,
    }


def product_type(key: str = "tshirt") -> Json:
    return {
        "key": key,
        "name": key.title(),
        "description": f"{key} products",
        "attributes": [
            {
                "name": "color",
                "label": {"en": "Color"},
                "isRequired": False,
                "type": {"name": "text"},
                "attributeConstraint": "None",
                "isSearchable": True,
                "inputHint": "SingleLine",
            }
        ],
    }


def product(n: int, variants: int = 1, publish: bool = True) -> Json:
    drafts = [
        {
            "sku": f"SKU-{n:05d}-{v}",
            "attributes": [{"name": "color", "value": "red"}],
            "prices": [{"key": f"p-{n}-{v}", "value": {"currencyCode": "EUR", "centAmount": n}}],
        }
        for v in range(variants)
    ]
    return {
        "key": f"product-{n:05d}",
        "productType": {"typeId": "product-type", "key": "tshirt"},
        "name": {"en": f"Shirt {n}", "de": f"Hemd {n}"},
        "slug": {"en": f"shirt-{n}"},
        "masterVariant": drafts[0],
        "variants": drafts[1:],
        "publish": publish,
    }


def load_products(server: CtServer, count: int, *, start: int = 0, variants: int = 1) -> None:
    load(server, "product-type", [product_type()])
    drafts = [product(n, variants) for n in range(start, start + count)]
    for i in range(0, len(drafts), 2000):
        load(server, "product", drafts[i : i + 2000])


def results(response: httpx.Response) -> list[Json]:
    assert response.status_code == 200, response.text
    found: list[Json] = response.json()["results"]
    return found


# -- OAuth -----------------------------------------------------------------------------------


def test_health(ct_server: CtServer) -> None:
    response = admin(ct_server, "GET", "health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "platform": "commercetools"}


@pytest.mark.parametrize(
    "auth", [(CLIENT_ID, "wrong"), ("someone-else", CLIENT_SECRET), None], ids=str
)
def test_only_the_configured_client_gets_a_token(
    ct_server: CtServer, auth: tuple[str, str] | None
) -> None:
    response = httpx.post(
        f"{ct_server.base_url}/oauth/token",
        auth=auth,
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "message": INVALID_CLIENT,
        "errors": [{"code": "invalid_client", "message": INVALID_CLIENT}],
        "error": "invalid_client",
        "error_description": INVALID_CLIENT,
    }


def test_token_response_is_exactly_the_real_shape(ct_server: CtServer) -> None:
    body = token_response(ct_server, data={"grant_type": "client_credentials"}).json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == LIFETIME
    assert body["scope"] == f"manage_project:{PROJECT}"
    token = body["access_token"]
    assert len(token) == 32
    assert not set(token) & set("+/=")
    assert token != new_token(ct_server)


def test_scope_in_form_body_query_string_and_with_raw_separators(ct_server: CtServer) -> None:
    scope = f"view_products:{PROJECT} view_orders:{PROJECT}"
    by_form = token_response(ct_server, data={"grant_type": "client_credentials", "scope": scope})
    assert by_form.json()["scope"] == scope

    by_query = token_response(
        ct_server, params={"grant_type": "client_credentials", "scope": scope}
    )
    assert by_query.json()["scope"] == scope

    # "+" for spaces, as a hand-written query string would have it; extra blanks collapse.
    raw = f"grant_type=client_credentials&scope=view_products:{PROJECT}++view_orders:{PROJECT}"
    plus = token_response(
        ct_server, content=raw, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert plus.json()["scope"] == scope
    plus_in_query = httpx.post(
        f"{ct_server.base_url}/oauth/token?{raw}", auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert plus_in_query.json()["scope"] == scope

    store_scope = f"manage_orders:{PROJECT}:eu-store"
    stored = token_response(
        ct_server, data={"grant_type": "client_credentials", "scope": f"  {store_scope}  "}
    )
    assert stored.json()["scope"] == store_scope

    both = token_response(
        ct_server,
        params={"grant_type": "client_credentials", "scope": f"view_orders:{PROJECT}"},
        data={"scope": f"view_products:{PROJECT}"},
    )
    assert both.json()["scope"] == f"view_products:{PROJECT}"  # the form body wins


@pytest.mark.parametrize(
    "scope",
    [
        "manage_project",
        f"manage_project:{PROJECT}:",
        "manage_project:another-project",
        f"fly_to_the_moon:{PROJECT}",
        f"view_products:{PROJECT},view_orders:{PROJECT}",
        f"manage_orders:{PROJECT}:bad store!",
        f"view_products:{PROJECT} manage_project:another-project",
    ],
)
def test_malformed_or_foreign_scopes_are_invalid_scope(ct_server: CtServer, scope: str) -> None:
    response = token_response(ct_server, data={"grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": INVALID_SCOPE,
        "errors": [{"code": "invalid_scope", "message": INVALID_SCOPE}],
        "error": "invalid_scope",
        "error_description": INVALID_SCOPE,
    }


def test_grant_type_missing_or_unsupported(ct_server: CtServer) -> None:
    missing = token_response(ct_server, data={"scope": f"manage_project:{PROJECT}"})
    assert missing.status_code == 400
    body = missing.json()
    assert body["error"] == "invalid_request"
    assert body["errors"][0]["code"] == "invalid_request"
    assert body["statusCode"] == 400
    assert body["message"] == body["error_description"]

    other = token_response(ct_server, data={"grant_type": "password"})
    assert other.status_code == 400
    assert other.json()["error"] == "unsupported_grant_type"
    assert other.json()["errors"][0]["code"] == "unsupported_grant_type"


def test_tokens_expire_after_the_configured_lifetime(ct_server: CtServer) -> None:
    long_lived = new_token(ct_server)
    patched = admin(ct_server, "PATCH", "config", {"token_lifetime": 1})
    assert patched.json() == {"token_lifetime": 1}
    assert admin(ct_server, "GET", "config").json() == {"token_lifetime": 1}

    response = token_response(ct_server, data={"grant_type": "client_credentials"})
    assert response.json()["expires_in"] == 1
    short_lived = response.json()["access_token"]
    url = f"{ct_server.base_url}/{PROJECT}/channels"
    # Not also used while fresh: on a loaded machine its one second can pass before a request
    # lands. It was issued before its answer reached us, so it has expired 1 s after that.
    time.sleep(1.1)
    expired = httpx.get(url, headers={"Authorization": f"Bearer {short_lived}"})
    assert expired.status_code == 401
    assert expired.json() == {
        "statusCode": 401,
        "message": "invalid_token",
        "errors": [{"code": "invalid_token", "message": "invalid_token"}],
        "error": "invalid_token",
    }
    # Tokens issued before the change keep their lifetime.
    assert httpx.get(url, headers={"Authorization": f"Bearer {long_lived}"}).status_code == 200
    bad = admin(ct_server, "PATCH", "config", {"token_lifetime": 0})
    assert bad.status_code == 400


def test_missing_and_unknown_bearer_tokens(ct_server: CtServer) -> None:
    url = f"{ct_server.base_url}/{PROJECT}/products"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json() == {
        "statusCode": 401,
        "message": MISSING_TOKEN,
        "errors": [{"code": "invalid_token", "message": MISSING_TOKEN}],
        "error": "invalid_token",
    }
    unknown = httpx.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert unknown.status_code == 401
    assert unknown.json()["message"] == "invalid_token"


def test_a_token_only_opens_its_own_project(ct_server: CtServer) -> None:
    headers = {"Authorization": f"Bearer {new_token(ct_server)}"}
    response = httpx.get(f"{ct_server.base_url}/another-project/products", headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "insufficient_scope"


def test_project_settings(api: httpx.Client) -> None:
    project = api.get(project_url(api)).json()
    assert project["key"] == PROJECT
    assert project["languages"] == ["en", "de"]
    assert project["currencies"] == ["EUR", "USD", "GBP"]
    assert project["countries"] == ["DE", "US", "GB"]


# -- query parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "501"}, "The query parameter 'limit' must be between 0 and 500."),
        ({"limit": "-1"}, "The query parameter 'limit' must be between 0 and 500."),
        ({"offset": "10001"}, "The query parameter 'offset' must be between 0 and 10000."),
        ({"offset": "-5"}, "The query parameter 'offset' must be between 0 and 10000."),
        ({"limit": "ten"}, "Malformed parameter: limit: Invalid int."),
        ({"offset": "1.5"}, "Malformed parameter: offset: Invalid int."),
    ],
)
def test_limit_and_offset_bounds(api: httpx.Client, params: dict[str, str], message: str) -> None:
    response = api.get("/products", params=params)
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": message,
        "errors": [{"code": "InvalidInput", "message": message}],
    }


def test_limit_defaults_edges_and_zero(ct_server: CtServer, api: httpx.Client) -> None:
    load(
        ct_server,
        "channel",
        [{"key": f"ch-{n:02d}", "roles": ["InventorySupply"]} for n in range(25)],
    )
    default = api.get("/channels").json()
    assert (default["limit"], default["count"], default["total"]) == (20, 20, 25)
    zero = api.get("/channels", params={"limit": 0}).json()
    assert (zero["limit"], zero["count"], zero["total"], zero["results"]) == (0, 0, 25, [])
    assert api.get("/channels", params={"limit": 500, "offset": 10000}).json()["count"] == 0
    assert api.get("/channels", params={"offset": 20}).json()["count"] == 5


@pytest.mark.parametrize("value", ["false", "False", "FALSE"])
def test_with_total_false_omits_total(ct_server: CtServer, api: httpx.Client, value: str) -> None:
    load(ct_server, "channel", [{"key": "one", "roles": ["InventorySupply"]}])
    body = api.get("/channels", params={"withTotal": value}).json()
    assert "total" not in body
    assert body["count"] == 1
    assert api.get("/channels", params={"withTotal": "True"}).json()["total"] == 1
    assert api.get("/channels", params={"withTotal": "maybe"}).status_code == 400


def test_total_is_capped_at_10000_with_a_predicate(ct_server: CtServer, api: httpx.Client) -> None:
    load_products(ct_server, 10050)
    assert api.get("/products", params={"limit": 0}).json()["total"] == 10050
    capped = api.get("/products", params={"limit": 0, "where": 'key > "a"'}).json()
    assert capped["total"] == 10000


# -- sort --------------------------------------------------------------------------------------


def keys(response: httpx.Response, field: str = "key") -> list[Any]:
    return [r[field] for r in results(response)]


def test_sort_products_by_key_and_multi_key(ct_server: CtServer, api: httpx.Client) -> None:
    load(ct_server, "product-type", [product_type()])
    order = [3, 1, 4, 0, 2]
    load(ct_server, "product", [product(n) for n in order])
    asc = keys(api.get("/products", params={"sort": "key asc"}))
    assert asc == [f"product-{n:05d}" for n in range(5)]
    desc = keys(api.get("/products", params={"sort": "key desc"}))
    assert desc == list(reversed(asc))
    by_name = api.get("/products", params={"sort": "masterData.current.name.en desc"})
    assert [p["key"] for p in results(by_name)] == desc
    # All share version 1: the second key decides, then id.
    multi = api.get("/products", params=[("sort", "version asc"), ("sort", "key desc")])
    assert keys(multi) == desc
    ids = keys(api.get("/products", params={"sort": "id asc"}), "id")
    assert ids == sorted(ids)
    created = keys(api.get("/products", params={"sort": "createdAt desc"}), "createdAt")
    assert created == sorted(created, reverse=True)
    modified = keys(api.get("/products", params={"sort": "lastModifiedAt asc"}), "lastModifiedAt")
    assert modified == sorted(modified)
    projected = api.get("/product-projections", params={"sort": "key desc", "limit": 3})
    assert keys(projected) == desc[:3]
    assert api.get("/products", params={"sort": "key sideways"}).status_code == 400


def test_sort_customers_inventory_categories_prices_orders(
    ct_server: CtServer, api: httpx.Client
) -> None:
    load(ct_server, "channel", [{"key": "eu", "roles": ["InventorySupply"]}])
    emails = ["carla@example.com", "anna@example.com", "ben@example.com"]
    load(ct_server, "customer", [{"email": e, "password": "secret"} for e in emails])
    assert keys(api.get("/customers", params={"sort": "email asc"}), "email") == sorted(emails)
    assert keys(api.get("/customers", params={"sort": "email desc"}), "email") == sorted(
        emails, reverse=True
    )

    skus = ["SKU-B", "SKU-C", "SKU-A"]
    load(
        ct_server,
        "inventory-entry",
        [
            {"sku": s, "quantityOnStock": 1, "supplyChannel": {"typeId": "channel", "key": "eu"}}
            for s in skus
        ],
    )
    assert keys(api.get("/inventory", params={"sort": "sku asc"}), "sku") == sorted(skus)

    load(ct_server, "category", [{"key": k, "name": {"en": k}, "slug": {"en": k}} for k in "bca"])
    assert keys(api.get("/categories", params={"sort": "key desc"})) == ["c", "b", "a"]

    load(
        ct_server,
        "standalone-price",
        [
            {"key": f"sp-{c}", "sku": f"SKU-{c}", "value": {"currencyCode": "EUR", "centAmount": n}}
            for c, n in (("b", 2), ("a", 3), ("c", 1))
        ],
    )
    assert keys(api.get("/standalone-prices", params={"sort": "sku desc"}), "sku") == [
        "SKU-c",
        "SKU-b",
        "SKU-a",
    ]
    by_amount = api.get("/standalone-prices", params={"sort": "value.centAmount asc"})
    assert [p["value"]["centAmount"] for p in results(by_amount)] == [1, 2, 3]

    load(ct_server, "product-type", [product_type()])
    load(ct_server, "product", [product(1)])
    load(ct_server, "order", [order(n, "SKU-00001-0") for n in ("o-2", "o-3", "o-1")])
    numbers = keys(api.get("/orders", params={"sort": "orderNumber asc"}), "orderNumber")
    assert numbers == ["o-1", "o-2", "o-3"]


def order(number: str, sku: str, completed_at: str = "2026-03-01T10:00:00Z") -> Json:
    address = {"firstName": "Anna", "lastName": "Muster", "country": "DE"}
    return {
        "orderNumber": number,
        "customerEmail": "anna@example.com",
        "country": "DE",
        "lineItems": [
            {
                "name": {"en": "Shirt"},
                "variant": {"sku": sku},
                "price": {"value": money("EUR", 1999)},
                "quantity": 2,
            }
        ],
        "totalPrice": money("EUR", 3998),
        "shippingAddress": address,
        "billingAddress": address,
        "orderState": "Open",
        "completedAt": completed_at,
    }


# -- keyset walks ------------------------------------------------------------------------------


def test_id_keyset_walk_sees_every_product_once(ct_server: CtServer, api: httpx.Client) -> None:
    load_products(ct_server, 1200, variants=2)
    seen: list[str] = []
    last: str | None = None
    while True:
        params: dict[str, Any] = {"sort": "id asc", "limit": 500, "withTotal": "false"}
        if last:
            params["where"] = f'id > "{last}"'
        page = api.get("/products", params=params).json()
        assert "total" not in page
        seen += [p["id"] for p in page["results"]]
        if page["count"] < 500:
            break
        last = page["results"][-1]["id"]
    assert len(seen) == 1200
    assert len(set(seen)) == 1200
    assert seen == sorted(seen)
    # Descending, with an upper bound and another predicate in the same request.
    pivot = seen[600]
    below = api.get(
        "/products",
        params=[
            ("sort", "id desc"),
            ("where", f'id < "{pivot}"'),
            ("where", 'key != "x"'),
            ("limit", "3"),
        ],
    )
    assert keys(below, "id") == list(reversed(seen[597:600]))
    assert below.json()["total"] == 600


def test_incremental_keyset_on_last_modified_at(ct_server: CtServer, api: httpx.Client) -> None:
    load_products(ct_server, 1200)  # loaded in bursts: many share a millisecond
    predicate = "lastModifiedAt > :t or (lastModifiedAt = :t and id > :id)"
    cursor = ("1970-01-01T00:00:00.000Z", "")
    seen: list[tuple[str, str]] = []
    while True:
        page = api.get(
            "/products",
            params={
                "where": predicate,
                "var.t": cursor[0],
                "var.id": cursor[1],
                "sort": ["lastModifiedAt asc", "id asc"],
                "limit": 100,
                "withTotal": "false",
            },
        ).json()
        rows = [(p["lastModifiedAt"], p["id"]) for p in page["results"]]
        seen += rows
        if page["count"] < 100:
            break
        cursor = rows[-1]
    assert len(seen) == 1200
    assert len({i for _, i in seen}) == 1200
    assert seen == sorted(seen)
    assert len({t for t, _ in seen}) < 1200  # ties on the timestamp were really exercised


def test_product_projection_keyset_and_staged(ct_server: CtServer, api: httpx.Client) -> None:
    load(ct_server, "product-type", [product_type()])
    load(ct_server, "product", [product(n, publish=n % 2 == 0) for n in range(30)])
    published = api.get("/product-projections", params={"limit": 500}).json()
    assert published["total"] == 15
    staged = api.get("/product-projections", params={"staged": "true", "limit": 0}).json()
    assert staged["total"] == 30
    seen: list[str] = []
    last = None
    while True:
        params: dict[str, Any] = {"sort": "id asc", "limit": 4, "withTotal": "false"}
        if last:
            params["where"] = f'id > "{last}"'
        page = api.get("/product-projections", params=params).json()
        seen += [p["id"] for p in page["results"]]
        if page["count"] < 4:
            break
        last = seen[-1]
    assert seen == sorted(p["id"] for p in published["results"])
    by_sku = api.get("/product-projections", params={"where": 'masterVariant(sku="SKU-00004-0")'})
    assert keys(by_sku) == ["product-00004"]


# -- date-time predicates ------------------------------------------------------------------------


def test_date_times_compare_as_instants(ct_server: CtServer, api: httpx.Client) -> None:
    load(ct_server, "channel", [{"key": f"ch-{n}", "roles": ["InventorySupply"]} for n in range(3)])
    channel = results(api.get("/channels", params={"limit": 1, "sort": "key asc"}))[0]
    stamp = datetime.fromisoformat(channel["lastModifiedAt"].replace("Z", "+00:00"))
    spellings = [
        channel["lastModifiedAt"],  # 2026-01-02T03:04:05.181Z
        stamp.isoformat(timespec="microseconds"),  # 2026-01-02T03:04:05.181000+00:00
        stamp.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),  # 2026-01-02T03:04:05.181000+0000
        stamp.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00",
        (stamp + timedelta(hours=2)).isoformat().replace("+00:00", "+02:00"),
    ]
    everything = results(api.get("/channels"))
    for spelling in spellings:
        for field in ("lastModifiedAt", "createdAt"):
            expected = sorted(c["id"] for c in everything if c[field] == channel["lastModifiedAt"])
            literal = api.get("/channels", params={"where": f'{field} = "{spelling}"'})
            assert sorted(keys(literal, "id")) == expected, spelling
            variable = api.get("/channels", params={"where": f"{field} = :t", "var.t": spelling})
            assert sorted(keys(variable, "id")) == expected, spelling
        later = api.get("/channels", params={"where": f'lastModifiedAt > "{spelling}"'})
        assert channel["id"] not in keys(later, "id")
        not_earlier = api.get("/channels", params={"where": f'lastModifiedAt >= "{spelling}"'})
        assert channel["id"] in keys(not_earlier, "id")

    # Imported orders keep their completedAt, stored in the canonical spelling.
    load(ct_server, "product-type", [product_type()])
    load(ct_server, "product", [product(7)])
    load(ct_server, "order", [order("o-7", "SKU-00007-0", "2026-03-01T10:00:00+01:00")])
    stored = results(api.get("/orders"))[0]
    assert stored["completedAt"] == "2026-03-01T09:00:00.000Z"
    found = api.get("/orders", params={"where": 'completedAt = "2026-03-01T09:00:00Z"'})
    assert keys(found, "orderNumber") == ["o-7"]


# -- DELETE, unknown routes, HEAD ------------------------------------------------------------------


def test_delete_requires_the_current_version(api: httpx.Client) -> None:
    created = api.post("/channels", json={"key": "doomed", "roles": ["InventorySupply"]})
    assert created.status_code == 201
    channel = created.json()

    missing = api.delete(f"/channels/{channel['id']}")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "InvalidInput"
    assert "version" in missing.json()["message"]

    wrong = api.delete(f"/channels/{channel['id']}", params={"version": 7})
    assert wrong.status_code == 409
    message = (
        f"Object {channel['id']} has a different version than expected. Expected: 7 - Actual: 1."
    )
    assert wrong.json() == {
        "statusCode": 409,
        "message": message,
        "errors": [{"code": "ConcurrentModification", "message": message, "currentVersion": 1}],
    }
    by_key_wrong = api.delete("/channels/key=doomed", params={"version": 2})
    assert by_key_wrong.status_code == 409
    assert api.get(f"/channels/{channel['id']}").status_code == 200

    deleted = api.delete("/channels/key=doomed", params={"version": 1})
    assert deleted.status_code == 200
    assert api.get(f"/channels/{channel['id']}").status_code == 404


def test_unknown_routes_get_a_commercetools_404(api: httpx.Client) -> None:
    response = api.get("/no-such-resource/abc")
    assert response.status_code == 404
    body = response.json()
    assert body["statusCode"] == 404
    assert body["errors"][0]["code"] == "ResourceNotFound"
    assert body["message"] == body["errors"][0]["message"]
    missing = api.get("/products/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "ResourceNotFound"


def test_head_on_a_query(ct_server: CtServer, api: httpx.Client) -> None:
    load(ct_server, "channel", [{"key": "eu", "roles": ["InventorySupply"]}])
    assert api.head("/channels", params={"where": 'key = "eu"'}).status_code == 200
    assert api.head("/channels", params={"where": 'key = "us"'}).status_code == 404


def test_keys_are_unique(api: httpx.Client) -> None:
    assert api.post("/channels", json={"key": "twice", "roles": []}).status_code == 201
    again = api.post("/channels", json={"key": "twice", "roles": []})
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "DuplicateField"


# -- faults and counters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "TooManyRequests"), (500, "General"), (502, "General"), (503, "OverCapacity")],
)
def test_status_faults(ct_server: CtServer, api: httpx.Client, status: int, code: str) -> None:
    armed = admin(
        ct_server,
        "POST",
        "faults",
        {"method": "GET", "path": "/channels$", "count": 2, "status": status, "retry_after": 3},
    )
    assert armed.status_code == 201
    assert armed.json()["id"]
    listed = admin(ct_server, "GET", "faults").json()
    assert [(f["path"], f["count"], f["status"]) for f in listed] == [("/channels$", 2, status)]

    assert api.post("/channels", json={"key": "x", "roles": []}).status_code == 201  # POST: no
    for _ in range(2):
        hit = api.get("/channels")
        assert hit.status_code == status
        assert hit.headers["retry-after"] == "3"
        body = hit.json()
        assert body["statusCode"] == status
        assert body["errors"][0]["code"] == code
        assert body["message"] == body["errors"][0]["message"]
    assert api.get("/channels").status_code == 200  # disarmed after `count` hits
    assert admin(ct_server, "GET", "faults").json() == []


def test_faults_hit_the_token_endpoint_too(ct_server: CtServer) -> None:
    admin(ct_server, "POST", "faults", {"path": "^/oauth/token$", "status": 503})
    failed = token_response(ct_server, data={"grant_type": "client_credentials"})
    assert failed.status_code == 503
    assert failed.json()["error"] == "OverCapacity"
    assert token_response(ct_server, data={"grant_type": "client_credentials"}).status_code == 200


def test_delay_and_drop_faults(ct_server: CtServer, api: httpx.Client) -> None:
    admin(ct_server, "POST", "faults", {"path": "/channels", "delay": 0.4})
    started = time.monotonic()
    assert api.get("/channels").status_code == 200  # delayed, then answered normally
    assert time.monotonic() - started >= 0.4

    admin(ct_server, "POST", "faults", {"path": "/channels", "drop": True})
    with pytest.raises(httpx.TransportError):
        api.get("/channels")
    assert api.get("/channels").status_code == 200

    admin(ct_server, "POST", "faults", {"path": "/oauth/token", "drop": True, "delay": 0.1})
    with pytest.raises(httpx.TransportError):
        token_response(ct_server, data={"grant_type": "client_credentials"})

    admin(ct_server, "POST", "faults", {"status": 500, "count": 5})
    assert admin(ct_server, "DELETE", "faults").status_code == 204
    assert api.get("/channels").status_code == 200
    assert admin(ct_server, "POST", "faults", {"path": "("}).status_code == 400
    assert admin(ct_server, "POST", "faults", {"status": 200}).status_code == 400


def held(server: CtServer, count: int) -> list[Json]:
    """The held requests, once the sandbox holds `count` of them (pytest-timeout ends a hang)."""
    found: list[Json] = admin(server, "GET", "held").json()
    while len(found) < count:
        time.sleep(0.01)
        found = admin(server, "GET", "held").json()
    return found


def test_hold_fault_holds_until_released(ct_server: CtServer, api: httpx.Client) -> None:
    fault = {"method": "GET", "path": "/channels$", "count": 2, "hold": True}
    fault_id = admin(ct_server, "POST", "faults", fault).json()["id"]
    assert admin(ct_server, "GET", "faults").json()[0]["hold"] is True
    with ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(api.get, "/channels") for _ in range(2)]
        first, second = held(ct_server, 2)
        path = f"/{PROJECT}/channels"
        assert (first["fault"], first["method"], first["path"]) == (fault_id, "GET", path)
        assert first["id"] != second["id"]
        assert api.get("/customers").status_code == 200  # only matching requests are held

        released = admin(ct_server, "POST", "release", {"id": first["id"]})
        assert released.json() == {"released": [first["id"]]}
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        assert [f.result().status_code for f in done] == [200]
        assert admin(ct_server, "GET", "held").json() == [second]

        assert admin(ct_server, "POST", "release", {}).json() == {"released": [second["id"]]}
        assert [f.result().status_code for f in pending] == [200, 200]
    assert admin(ct_server, "GET", "held").json() == []
    assert admin(ct_server, "GET", "faults").json() == []
    assert admin(ct_server, "POST", "release", {"id": first["id"]}).status_code == 404
    assert admin(ct_server, "POST", "release", {"id": 1}).status_code == 400
    assert admin(ct_server, "POST", "faults", {"hold": "yes"}).status_code == 400


def test_reset_releases_held_requests_and_the_rest_of_the_fault_applies(
    ct_server: CtServer, api: httpx.Client
) -> None:
    admin(ct_server, "POST", "faults", {"path": "/channels$", "hold": True, "status": 503})
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(api.get, "/channels")
        held(ct_server, 1)
        assert admin(ct_server, "POST", "reset").status_code == 204
        assert pending.result().status_code == 503
    assert admin(ct_server, "GET", "held").json() == []


def test_stopping_releases_held_requests() -> None:
    port = free_port()
    process = _spawn(port)
    other = CtServer(f"http://127.0.0.1:{port}", PROJECT, CLIENT_ID, CLIENT_SECRET)
    try:
        _wait_healthy(process, other.base_url)
        admin(other, "POST", "faults", {"path": "/channels$", "hold": True})
        headers = {"Authorization": f"Bearer {new_token(other)}"}
        url = f"{other.base_url}/{PROJECT}/channels"
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(httpx.get, url, headers=headers, timeout=30)
            held(other, 1)
            process.terminate()
            assert pending.result().status_code == 200
            assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_counters(ct_server: CtServer) -> None:
    token = new_token(ct_server)
    token_response(ct_server, auth=("nobody", "nothing"), data={"grant_type": "client_credentials"})
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{ct_server.base_url}/{PROJECT}"
    httpx.get(f"{base}/products", headers=headers, params={"limit": 5})
    httpx.get(f"{base}/products", headers=headers)
    httpx.get(f"{base}/nowhere", headers=headers)
    admin(ct_server, "GET", "health")  # admin requests are never counted
    counters = admin(ct_server, "GET", "counters").json()
    assert counters["token_requests"] == 2  # failed ones too
    assert counters["api_requests"] == 3
    assert counters["paths"][f"GET /{PROJECT}/products"] == 2
    assert counters["paths"][f"GET /{PROJECT}/nowhere"] == 1
    assert counters["paths"]["POST /oauth/token"] == 2
    assert admin(ct_server, "DELETE", "counters").status_code == 204
    assert admin(ct_server, "GET", "counters").json() == {
        "token_requests": 0,
        "api_requests": 0,
        "paths": {},
    }


def test_reset_restores_the_baseline(ct_server: CtServer, api: httpx.Client) -> None:
    load(ct_server, "channel", [{"key": "eu", "roles": ["InventorySupply"]}])
    project = api.get(project_url(api)).json()
    changed = api.post(
        project_url(api),
        json={
            "version": project["version"],
            "actions": [{"action": "changeLanguages", "languages": ["en"]}],
        },
    )
    assert changed.json()["languages"] == ["en"]
    admin(ct_server, "POST", "faults", {"path": "/nothing", "status": 500})
    admin(ct_server, "PATCH", "config", {"token_lifetime": 60})
    assert admin(ct_server, "POST", "reset").status_code == 204

    assert api.get("/channels").json()["total"] == 0  # tokens survive a reset
    assert api.get(project_url(api)).json()["languages"] == ["en", "de"]
    assert admin(ct_server, "GET", "faults").json() == []
    assert admin(ct_server, "GET", "config").json() == {"token_lifetime": LIFETIME}
    counters = admin(ct_server, "GET", "counters").json()
    assert counters["api_requests"] == 2  # only the two requests since the reset


# -- bulk load -------------------------------------------------------------------------------------


def test_load_builds_real_resources_with_key_references(
    ct_server: CtServer, api: httpx.Client
) -> None:
    load(
        ct_server,
        "tax-category",
        [
            {
                "key": "standard",
                "name": "Standard",
                "rates": [
                    {"name": "DE 19%", "amount": 0.19, "includedInPrice": True, "country": "DE"}
                ],
            }
        ],
    )
    load(ct_server, "customer-group", [{"key": "vip", "groupName": "VIP"}])
    load(ct_server, "store", [{"key": "eu-store", "name": {"en": "EU"}}])
    load(ct_server, "product-type", [product_type()])
    load(ct_server, "category", [{"key": "men", "name": {"en": "Men"}, "slug": {"en": "men"}}])
    load(
        ct_server,
        "category",
        [
            {
                "key": "men-shirts",
                "name": {"en": "Shirts"},
                "slug": {"en": "men-shirts"},
                "parent": {"typeId": "category", "key": "men"},
            }
        ],
    )
    draft = product(1, variants=3)
    draft["categories"] = [{"typeId": "category", "key": "men-shirts"}]
    draft["taxCategory"] = {"typeId": "tax-category", "key": "standard"}
    load(ct_server, "product", [draft, product(2, publish=False)])
    load(
        ct_server,
        "customer",
        [
            {
                "email": "anna@example.com",
                "password": "x",
                "key": "anna",
                "customerGroup": {"typeId": "customer-group", "key": "vip"},
            }
        ],
    )
    load(ct_server, "order", [order("o-1", "SKU-00001-2")])

    loaded = results(api.get("/products", params={"sort": "key asc"}))
    first, second = loaded
    assert first["version"] == 1
    assert first["createdAt"] == first["lastModifiedAt"]
    data = first["masterData"]
    assert data["published"] is True
    assert data["hasStagedChanges"] is False
    assert data["current"] == data["staged"]
    variants = [data["current"]["masterVariant"], *data["current"]["variants"]]
    assert [v["id"] for v in variants] == [1, 2, 3]
    assert all(v["prices"][0]["id"] for v in variants)
    assert data["current"]["categories"][0]["typeId"] == "category"
    assert second["masterData"]["published"] is False

    parent = api.get("/categories/key=men").json()
    child = api.get("/categories/key=men-shirts").json()
    assert child["parent"]["id"] == parent["id"]
    customer = api.get("/customers/key=anna").json()
    assert customer["email"] == "anna@example.com"  # (the mock ignores customerGroup)
    orders = results(api.get("/orders"))
    assert orders[0]["lineItems"][0]["productId"] == first["id"]
    assert orders[0]["lineItems"][0]["variant"]["id"] == 3
    assert orders[0]["country"] == "DE"
    assert api.get("/stores/key=eu-store").status_code == 200


def test_load_rejects_bad_requests(ct_server: CtServer) -> None:
    unknown = admin(ct_server, "POST", "load", {"type": "spaceship", "drafts": [{}]})
    assert unknown.status_code == 400
    shapeless = admin(ct_server, "POST", "load", {"drafts": []})
    assert shapeless.status_code == 400
    load(ct_server, "product-type", [product_type()])
    broken = product(2)
    broken["productType"] = {"typeId": "product-type", "key": "nope"}
    failing = admin(ct_server, "POST", "load", {"type": "product", "drafts": [product(1), broken]})
    assert failing.status_code == 400
    body = failing.json()
    assert body["loaded"] == 1
    assert "#1" in body["message"]
    unknown_sku = admin(ct_server, "POST", "load", {"type": "order", "drafts": [order("o", "x")]})
    assert unknown_sku.status_code == 400


def test_load_may_stamp_every_record_with_one_timestamp(
    ct_server: CtServer, api: httpx.Client
) -> None:
    drafts = [{"sku": f"SKU-{n}", "quantityOnStock": n} for n in range(50)]
    body = {"type": "inventory", "drafts": drafts, "timestamp": "2026-03-01T10:00:00+01:00"}
    assert admin(ct_server, "POST", "load", body).status_code == 200
    entries = api.get("/inventory", params={"limit": 100}).json()["results"]
    assert {(e["createdAt"], e["lastModifiedAt"]) for e in entries} == {
        ("2026-03-01T09:00:00.000Z", "2026-03-01T09:00:00.000Z")
    }
    bad = admin(ct_server, "POST", "load", {**body, "timestamp": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "InvalidInput"


def test_standalone_prices_keep_their_key_and_channel_key(api: httpx.Client) -> None:
    channel = {"key": "eu", "roles": ["InventorySupply"], "name": {"en": "EU"}}
    assert api.post("/channels", json=channel).status_code == 201
    draft = {
        "key": "a-eur",
        "sku": "A",
        "value": {"currencyCode": "EUR", "centAmount": 1000},
        "channel": {"typeId": "channel", "key": "eu"},
    }
    created = api.post("/standalone-prices", json=draft)
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "a-eur"
    assert created.json()["channel"]["typeId"] == "channel"
    found = api.get("/standalone-prices", params={"where": 'key = "a-eur"'}).json()
    assert [p["id"] for p in found["results"]] == [created.json()["id"]]
    again = api.post("/standalone-prices", json=draft)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "DuplicateField"
    nowhere = {**draft, "key": "b", "channel": {"typeId": "channel", "key": "nowhere"}}
    missing = api.post("/standalone-prices", json=nowhere)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["code"] == "ReferencedResourceNotFound"
    assert len(api.get("/standalone-prices").json()["results"]) == 1  # nothing half-made


# -- process ---------------------------------------------------------------------------------------


def test_startup_line_silence_and_clean_sigterm() -> None:
    port = free_port()
    process = _spawn(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url)
        token = new_token(CtServer(base_url, PROJECT, CLIENT_ID, CLIENT_SECRET))
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(f"{base_url}/{PROJECT}/products", headers=headers)
        httpx.get(f"{base_url}/{PROJECT}/nowhere", headers=headers)
        httpx.get(f"{base_url}/{PROJECT}/products", params={"limit": 900}, headers=headers)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stdout.decode() == f"cartwire-ct-sandbox listening on {base_url}\n"
    assert stderr.decode() == ""


def test_products_read_back_after_updates_and_with_expand(
    ct_server: CtServer, api: httpx.Client
) -> None:
    load(ct_server, "product-type", [product_type()])
    load(ct_server, "product", [product(1, variants=2), product(2)])
    listed = {p["key"]: p for p in results(api.get("/products"))}
    loaded = listed["product-00001"]
    assert api.get(f"/products/{loaded['id']}").json() == loaded

    # Staged-only change: current and staged now differ, in storage and on the wire.
    updated = api.post(
        f"/products/{loaded['id']}",
        json={
            "version": 1,
            "actions": [{"action": "changeName", "name": {"en": "Renamed"}, "staged": True}],
        },
    )
    assert updated.status_code == 200, updated.text
    after = api.get("/products", params={"where": 'key = "product-00001"'})
    data = results(after)[0]["masterData"]
    assert data["staged"]["name"] == {"en": "Renamed"}
    assert data["current"]["name"] == {"en": "Shirt 1", "de": "Hemd 1"}
    assert data["hasStagedChanges"] is True
    assert results(after)[0]["version"] == 2

    expanded = api.get("/products", params={"expand": "productType", "sort": "key asc"})
    assert results(expanded)[0]["productType"]["obj"]["key"] == "tshirt"
    # The expansion was made on a copy: the stored product is unchanged.
    plain = results(api.get("/products", params={"sort": "key asc"}))[0]
    assert "obj" not in plain["productType"]

    nested = api.get("/products", params={"where": 'masterData(current(name(en = "Shirt 2")))'})
    assert keys(nested) == ["product-00002"]
    by_sku = api.get(
        "/products",
        params={"where": 'masterData(current(variants(sku = "SKU-00001-1")))', "limit": 1},
    )
    assert keys(by_sku) == ["product-00001"]
