"""Token endpoint and bearer check of the Commerce Layer sandbox."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from tests.sandbox import cl_fixtures
from tests.sandbox.cl_fixtures import CLIENT_ID, CLIENT_SECRET, ORGANIZATION, ClServer

server = cl_fixtures.server_fixture()
reset = cl_fixtures.reset_fixture()

INVALID_CLIENT = {
    "errors": [
        {
            "title": "invalid_client",
            "detail": "Client authentication failed due to unknown client, no client "
            "authentication included, or unsupported authentication method.",
            "code": "UNAUTHORIZED",
            "status": 401,
        }
    ]
}
INVALID_SCOPE = {
    "errors": [
        {
            "title": "invalid_scope",
            "detail": "The requested scope is invalid, unknown, or malformed.",
            "code": "BAD_REQUEST",
            "status": 400,
        }
    ]
}
INVALID_TOKEN = {
    "errors": [
        {
            "title": "Invalid token",
            "detail": "The access token you provided is invalid.",
            "code": "INVALID_TOKEN",
            "status": "401",
        }
    ]
}
CREDENTIALS = {"grant_type": "client_credentials", "client_id": CLIENT_ID}


def credentials(**extra: str) -> dict[str, str]:
    return {**CREDENTIALS, "client_secret": CLIENT_SECRET, **extra}


def token_request(server: ClServer, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/oauth/token", timeout=10, **kwargs)


def claims(token: str) -> dict[str, Any]:
    header, payload, _signature = token.split(".")
    assert "-" not in payload
    assert "_" not in payload
    assert cl_fixtures.decode_segment(header)["alg"] == "RS512"
    decoded: dict[str, Any] = cl_fixtures.decode_segment(payload)
    return decoded


def test_json_body_gives_a_bearer_token(server: ClServer) -> None:
    before = int(time.time())
    response = token_request(server, json=credentials())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "created_at"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert body["scope"] == "market:all"
    assert before <= body["created_at"] <= time.time()


@pytest.mark.parametrize(
    "how",
    ["vnd.api+json", "form", "basic", "basic-with-form-grant"],
)
def test_other_credential_encodings(server: ClServer, how: str) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if how == "vnd.api+json":
        response = token_request(
            server,
            content=httpx.Request("POST", "/", json=credentials()).content,
            headers={"Content-Type": "application/vnd.api+json"},
        )
    elif how == "form":
        response = token_request(server, data=credentials())
    elif how == "basic":
        response = token_request(
            server,
            json={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
    else:
        response = token_request(
            server, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {**CREDENTIALS, "client_secret": "wrong"}},
        {"json": {**CREDENTIALS, "client_id": "nobody", "client_secret": CLIENT_SECRET}},
        {"json": {"grant_type": "client_credentials"}},
        {"data": {"grant_type": "client_credentials"}, "auth": (CLIENT_ID, "wrong")},
    ],
)
def test_bad_credentials(server: ClServer, kwargs: dict[str, Any]) -> None:
    response = token_request(server, **kwargs)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


def test_grant_type_errors(server: ClServer) -> None:
    unsupported = token_request(server, json=credentials(grant_type="password"))
    assert unsupported.status_code == 400
    assert unsupported.json() == {
        "errors": [
            {
                "title": "unsupported_grant_type",
                "detail": "The authorization grant type is not supported by the "
                "authorization server.",
                "code": "BAD_REQUEST",
                "status": 400,
            }
        ]
    }
    missing = token_request(server, json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert missing.status_code == 400
    error = missing.json()["errors"][0]
    assert error["title"] == "invalid_request"
    assert error["code"] == "BAD_REQUEST"
    assert error["status"] == 400


def test_jwt_claims(server: ClServer) -> None:
    before = int(time.time())
    token = token_request(server, json=credentials()).json()["access_token"]
    header = cl_fixtures.decode_segment(token.split(".")[0])
    assert header["typ"] == "JWT"
    assert header["alg"] == "RS512"
    assert header["kid"]
    payload = claims(token)
    assert payload["organization"]["slug"] == ORGANIZATION
    assert payload["organization"]["enterprise"] is False
    assert payload["organization"]["region"] == "eu-west-1"
    assert payload["application"]["client_id"] == CLIENT_ID
    assert payload["application"]["kind"] == "integration"
    assert payload["application"]["public"] is False
    assert payload["application"]["confidential"] is True
    assert "market" not in payload
    assert payload["scope"] == "market:all"
    assert payload["test"] is True
    assert 0 <= payload["rand"] < 1
    assert payload["iss"] == "https://auth.commercelayer.io"
    assert before <= payload["iat"] <= time.time()
    assert payload["exp"] == payload["iat"] + 7200


def test_payload_has_no_base64url_only_characters_even_with_awkward_strings(
    server: ClServer,
) -> None:
    api = server.api()
    merchant = api.first_id("merchants")
    price_list = api.first_id("price_lists")
    model = api.first_id("inventory_models")
    # '>', '?', '~' at a third byte produce '-'/'_' in base64url unless escaped.
    for code in ("a>b?c~d", "~~~", ">>?", "ü~?>"):
        api.made(
            "markets",
            {"name": code, "code": code},
            merchant=("merchants", merchant),
            price_list=("price_lists", price_list),
            inventory_model=("inventory_models", model),
        )
        token = token_request(server, json=credentials(scope=f"market:code:{code}"))
        assert token.status_code == 200, token.text
        payload = claims(token.json()["access_token"])
        assert payload["scope"] == f"market:code:{code}"


def test_market_scopes(server: ClServer) -> None:
    api = server.api()
    market = api.get("/markets").json()["data"][0]
    market_id, number = market["id"], market["attributes"]["number"]
    location = api.first_id("stock_locations")
    for scope in (
        "market:code:europe",
        f"market:id:{market_id}",
        f"market:{number}",
        f"market:code:europe stock_location:id:{location}",
        "market:code:europe,stock_location:code:eu-warehouse",
    ):
        response = token_request(server, json=credentials(scope=scope))
        assert response.status_code == 200, (scope, response.text)
        assert response.json()["scope"] == scope
        payload = claims(response.json()["access_token"])
        assert payload["scope"] == scope
        assert payload["market"] == {
            "id": [market_id],
            "stock_location_ids": [location],
            "geocoder_id": None,
            "allows_external_prices": False,
        }


@pytest.mark.parametrize(
    "scope",
    [
        "market:code:nowhere",
        "market:id:AAAAAAAAAA",
        "market:9999",
        "market",
        "market:name:europe",
        "store:code:outlet",
        "stock_location:code:eu-warehouse",
        "market:code:europe shipping:foo",
    ],
)
def test_invalid_scopes(server: ClServer, scope: str) -> None:
    response = token_request(server, json=credentials(scope=scope))
    assert response.status_code == 400
    assert response.json() == INVALID_SCOPE


def test_disabled_market_is_an_invalid_scope(server: ClServer) -> None:
    api = server.api()
    market = api.first_id("markets")
    assert api.update("markets", market, {"_disable": True}).status_code == 200
    response = token_request(server, json=credentials(scope="market:code:europe"))
    assert response.json() == INVALID_SCOPE
    assert api.update("markets", market, {"_enable": True}).status_code == 200
    assert token_request(server, json=credentials(scope="market:code:europe")).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not.a.token", "Basic abc", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
def test_api_rejects_missing_or_invalid_tokens(server: ClServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{server.url}/api/skus", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert response.json() == INVALID_TOKEN


def test_api_rejects_a_token_with_a_forged_signature(server: ClServer) -> None:
    header, payload, signature = server.token().split(".")
    forged = cl_fixtures.decode_segment(payload)
    forged["exp"] += 3600
    forged_payload = base64.urlsafe_b64encode(
        httpx.Request("POST", "/", json=forged).content
    ).rstrip(b"=")
    token = f"{header}.{forged_payload.decode()}.{signature}"
    response = httpx.get(f"{server.url}/api/skus", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_token_lifetime_is_configurable_and_enforced(server: ClServer) -> None:
    """A 1 s token is not also used while fresh: on a loaded machine that second can pass before
    the request lands (and `iat` is whole seconds). Its claims say when it expires; after that it
    is refused, while a token issued before the change keeps its lifetime."""
    long_lived = token_request(server, json=credentials()).json()["access_token"]
    config = server.admin("PATCH", "config", json={"token_lifetime": 1})
    assert config.json()["token_lifetime"] == 1
    body = token_request(server, json=credentials()).json()
    assert body["expires_in"] == 1
    expiry = claims(body["access_token"])
    assert expiry["exp"] - expiry["iat"] == 1
    time.sleep(max(0.0, expiry["exp"] - time.time()) + 0.01)  # until its `exp` has passed
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    expired = httpx.get(f"{server.url}/api/skus", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == INVALID_TOKEN
    headers = {"Authorization": f"Bearer {long_lived}"}
    assert httpx.get(f"{server.url}/api/skus", headers=headers).status_code == 200


def test_token_lifetime_from_the_command_line() -> None:
    other = cl_fixtures.start_server("--token-lifetime", "60", "--rate-limits", "off")
    try:
        body = token_request(other, json=credentials()).json()
        assert body["expires_in"] == 60
        assert claims(body["access_token"])["exp"] - claims(body["access_token"])["iat"] == 60
    finally:
        assert cl_fixtures.stop_server(other) == 0


def test_oauth_endpoint_allows_30_requests_per_minute(server: ClServer) -> None:
    server.admin("PATCH", "config", json={"rate_limits": "test"}).raise_for_status()
    statuses = [token_request(server, json=credentials()).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    limited = token_request(server, json=credentials())
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    error = limited.json()["errors"][0]
    assert error["code"] == "TOO_MANY_REQUESTS"
    assert error["status"] == 429
    # Failed attempts count too: the limit is on requests, not on tokens.
    server.admin("PATCH", "config", json={"rate_limits": {"oauth": 3}}).raise_for_status()
    statuses = [
        token_request(server, json={**CREDENTIALS, "client_secret": "x"}).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
