"""The token provider against the real sandboxes: how it asks, what it caches, how it recovers.

Token requests are counted at the sandbox (`/_sandbox/counters`), so these tests count what the
client really sent, not what it thinks it sent.
"""

import asyncio
import http.server
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cartwire.auth import (
    AuthenticationFailed,
    AuthUnreachable,
    ClientCredentialsAuth,
    InvalidClient,
    InvalidScope,
    TokenEndpoint,
    TokenSource,
    UnexpectedTokenResponse,
)
from cartwire.connectors import get_connector
from cartwire.instances.validation import resolved, validate
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.processes import free_port
from tests.sandbox_instances import fields


def given(sandbox: Sandbox, **overrides: str) -> dict[str, str]:
    """The sandbox's instance fields, overridden, validated and resolved as a saved instance's."""
    method = get_connector(sandbox.platform).auth_method()
    return resolved(method, validate(method, {**fields(sandbox), **overrides}))


def endpoint(platform: str, values: dict[str, str]) -> TokenEndpoint:
    return TokenEndpoint.for_instance(get_connector(platform).auth_method(), values)


def counters(sandbox: Sandbox) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{sandbox.url}/_sandbox/counters").json()
    return result


def fault(sandbox: Sandbox, **spec: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=spec).raise_for_status()


def configure(sandbox: Sandbox, **settings: Any) -> None:
    httpx.patch(f"{sandbox.url}/_sandbox/config", json=settings).raise_for_status()


def test_commercetools_token_basic_auth_form_body(ct: Sandbox) -> None:
    token = TokenSource(endpoint("commercetools", given(ct))).fetch()
    assert token.scope == ct.credentials["scope"]
    assert token.lifetime == timedelta(seconds=172800)
    assert "access_token" not in repr(token)
    assert token.access_token not in repr(token)


def test_commercelayer_token_json_body_and_twin_key(
    cl: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """The token comes from the twin key and says so; fetching it is not worth a warning each
    time (the credential test tells the user once per instance)."""
    source = TokenSource(endpoint("commercelayer", given(cl)))
    with caplog.at_level(logging.WARNING, logger="cartwire"):
        token = source.fetch()
        source.fetch()
    assert token.scope == cl.credentials["scope"]
    assert token.lifetime == timedelta(seconds=7200)
    assert token.read_from == "access_token"
    assert caplog.records == []


def test_dotted_token_key_absent_lists_the_keys_seen(cl: Sandbox) -> None:
    source = TokenSource(endpoint("commercelayer", given(cl, token_key="data.token")))
    with pytest.raises(UnexpectedTokenResponse) as raised:
        source.fetch()
    message = str(raised.value)
    assert "'data.token'" in message
    assert "access_token, created_at, expires_in, scope, token_type" in message
    assert cl.credentials["client_secret"] not in message


@pytest.mark.parametrize("platform", ["commercetools", "commercelayer"])
def test_invalid_client(platform: str, ct: Sandbox, cl: Sandbox) -> None:
    values = (
        given(ct, client_secret="wrong-secret")
        if platform == "commercetools"
        else given(cl, client_secret="wrong-secret")
    )
    with pytest.raises(InvalidClient) as raised:
        TokenSource(endpoint(platform, values)).fetch()
    assert raised.value.code == "invalid_client"
    assert "wrong-secret" not in str(raised.value)


def test_invalid_scope(ct: Sandbox, cl: Sandbox) -> None:
    with pytest.raises(InvalidScope):
        TokenSource(endpoint("commercelayer", given(cl, scope="market:code:nowhere"))).fetch()
    pk = ct.credentials["project_key"]
    with pytest.raises(InvalidScope):
        TokenSource(endpoint("commercetools", given(ct, scope=f"fly_away:{pk}"))).fetch()


def test_unreachable_auth_host() -> None:
    port = free_port()
    values = {
        "client_id": "x",
        "client_secret": "y",
        "grant_type": "client_credentials",
        "scope": "manage_project:p",
        "token_key": "access_token",
        "auth_url": f"http://127.0.0.1:{port}",
    }
    with pytest.raises(AuthUnreachable, match=r"127\.0\.0\.1 unreachable \(connection failed\)"):
        TokenSource(endpoint("commercetools", values)).fetch()


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b"<html>Service temporarily down</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    """A real server that answers the token request with an HTML page (a proxy error page)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_non_json_token_response(html_server: str) -> None:
    values = {"client_id": "x", "client_secret": "y", "auth_url": html_server, "token_key": "t"}
    with pytest.raises(UnexpectedTokenResponse, match="text/html, not a JSON object"):
        TokenSource(endpoint("commercetools", values)).fetch()


def _ct_client(ct: Sandbox, source: TokenSource) -> httpx.Client:
    base = f"{ct.credentials['api_url']}/{ct.credentials['project_key']}"
    # httpx's default 5 s timeout would make 100 requests at once depend on the machine's speed
    return httpx.Client(base_url=base, auth=ClientCredentialsAuth(source), timeout=120)


def test_one_token_for_100_threads(ct: Sandbox) -> None:
    source = TokenSource(endpoint("commercetools", given(ct)))
    with _ct_client(ct, source) as client, ThreadPoolExecutor(100) as pool:
        statuses = list(pool.map(lambda _: client.get("products").status_code, range(100)))
    assert statuses == [200] * 100
    assert counters(ct)["token_requests"] == 1


def test_one_token_for_100_tasks(cl: Sandbox) -> None:
    source = TokenSource(endpoint("commercelayer", given(cl)))

    async def main() -> list[int]:
        async with httpx.AsyncClient(
            base_url=f"{cl.credentials['api_url']}/api",
            auth=ClientCredentialsAuth(source),
            headers={"Accept": "application/vnd.api+json"},
            timeout=120,  # 100 requests at once: not bounded by the machine's speed
        ) as client:
            responses = await asyncio.gather(*(client.get("markets") for _ in range(100)))
        return [r.status_code for r in responses]

    assert asyncio.run(main()) == [200] * 100
    assert counters(cl)["token_requests"] == 1


def test_refresh_before_expiry(ct: Sandbox) -> None:
    """With a 3 s lifetime the margin is 0.3 s: calls 1.5 s apart need a new token every ~3 s."""
    configure(ct, token_lifetime=3)
    source = TokenSource(endpoint("commercetools", given(ct)))
    with _ct_client(ct, source) as client:
        for _ in range(5):
            assert client.get("products").status_code == 200
            threading.Event().wait(1.5)
    assert 2 <= counters(ct)["token_requests"] <= 3


def test_401_refreshes_once_and_retries_once(ct: Sandbox) -> None:
    source = TokenSource(endpoint("commercetools", given(ct)))
    with _ct_client(ct, source) as client:
        assert client.get("products").status_code == 200
        fault(ct, path="/products$", status=401, count=1)
        assert client.get("products").status_code == 200
    seen = counters(ct)
    assert seen["token_requests"] == 2
    assert seen["paths"][f"GET /{ct.credentials['project_key']}/products"] == 3


def test_second_401_is_an_error_not_a_loop(ct: Sandbox) -> None:
    source = TokenSource(endpoint("commercetools", given(ct)))
    fault(ct, path="/products$", status=401, count=5)
    with _ct_client(ct, source) as client, pytest.raises(AuthenticationFailed):
        client.get("products")
    seen = counters(ct)
    assert seen["token_requests"] == 2
    assert seen["paths"][f"GET /{ct.credentials['project_key']}/products"] == 2
