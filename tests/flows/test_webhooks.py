"""Webhooks that start flows: over real HTTP against `cartwire webhooks serve` (a subprocess),
signatures (Commerce Layer's header and signed URLs), the answers for every refusal, the secret
commands, and one Commerce Layer order webhook that ends up as a commercetools order.
"""

import base64
import hashlib
import hmac
import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from cartwire.flows import webhooks
from cartwire.platforms.commercelayer import webhooks as cl_webhooks
from cartwire.sandbox import clients
from cartwire.sandbox.manager import COMMERCELAYER, COMMERCETOOLS, Sandbox
from cartwire.sandbox.processes import free_port
from cartwire.store.engine import Sessions
from cartwire.store.models import WebhookSecretRow
from cartwire.store.runs import Run
from tests.flows.triggers_support import (
    Process,
    add_sandbox_instances,
    bind,
    opened_store,
    sandbox_fault,
    wait_for,
    write_flow,
)
from tests.recorded_runs import held_run
from tests.support import run_cli

CL_SECRET = "cl-shared-secret-0123456789abcdef"

# A Commerce Layer order webhook, as the sender posts it: the resource as a JSON:API document
# with its `include_resources` (here line items) in `included`.
ORDER_HOOK = """\
name: hook-orders
triggers:
  - webhook: {kind: commercelayer}
source: {connector: commercelayer, endpoint: orders, incremental: true}
steps:
  - filter: {field: number, op: eq, value: "never"}
destination: {connector: commercetools, endpoint: orders/import, mode: create-only}
"""

# Any other sender: a signed URL; the body is plain JSON records.
GENERIC_HOOK = """\
name: hook-generic
triggers:
  - webhook: {kind: signed_url}
source: {connector: commercetools, endpoint: channels, incremental: false}
steps:
  - filter: {field: key, op: eq, value: "never"}
destination: {connector: commercelayer, endpoint: stock_locations}
"""

NO_HOOK = """\
name: hook-none
triggers: [manual]
source: {connector: commercetools, endpoint: channels, incremental: false}
steps:
  - map: {fields: {code: key, name: key}}
destination: {connector: commercelayer, endpoint: stock_locations}
"""


def order_document(number: str = "1001") -> dict[str, Any]:
    return {
        "data": {
            "id": "wOrdEr1",
            "type": "orders",
            "attributes": {"number": number, "status": "placed", "currency_code": "EUR"},
            "relationships": {
                "line_items": {"data": [{"type": "line_items", "id": "lIne1"}]},
                "customer": {"links": {"related": "https://example/api/orders/wOrdEr1/customer"}},
            },
            "links": {"self": "https://example/api/orders/wOrdEr1"},
            "meta": {"mode": "test"},
        },
        "included": [
            {
                "id": "lIne1",
                "type": "line_items",
                "attributes": {"sku_code": "SKU-1", "quantity": 2, "item_type": "skus"},
            }
        ],
    }


def cl_signature(body: bytes, secret: str = CL_SECRET) -> str:
    """Computed here the way Commerce Layer's own SDK does (sdk-utils `checkSignature`)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Server:
    home: Path
    url: str
    generic_secret: str

    def post(
        self,
        path: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        return httpx.post(
            f"{self.url}{path}",
            content=body,
            headers={"content-type": "application/json", **(headers or {})},
            params=params,
            timeout=30,
        )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sandboxes: dict[str, Sandbox]
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("webhooks") / "home"
    add_sandbox_instances(home, sandboxes[COMMERCETOOLS], sandboxes[COMMERCELAYER])
    for name, text in (
        ("hook-orders", ORDER_HOOK),
        ("hook-generic", GENERIC_HOOK),
        ("hook-none", NO_HOOK),
        ("hook-disabled", ORDER_HOOK.replace("hook-orders", "hook-disabled")),
    ):
        write_flow(home, name, text)
    bind(home, "hook-orders", "cl", "ct")
    bind(home, "hook-generic", "ct", "cl")
    bind(home, "hook-none", "ct", "cl")
    bind(home, "hook-disabled", "cl", "ct", enabled=False)
    done = run_cli(home, "webhooks", "secret", "hook-orders", "--stdin", stdin=CL_SECRET + "\n")
    assert done.returncode == 0, done.stderr
    generated = run_cli(home, "webhooks", "secret", "hook-generic", "--generate")
    assert generated.returncode == 0, generated.stderr
    secret = generated.stdout.strip()
    port = free_port()
    process = Process(home, "webhooks", "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            assert process.popen.poll() is None, process.stderr()
            return False

    try:
        wait_for(healthy, 60, "the webhook server")
        yield Server(home, url, secret)
    finally:
        process.stop()


def _reason(document: dict[str, Any]) -> str:
    """The receiver's own refusals say `error`; a path no route matches is answered by the
    app as a problem document (`detail`), like every other route of `cartwire serve`."""
    reason: str = document.get("error") or document["detail"]
    return reason


def finished(home: Path, run_id: int) -> Run:
    def done() -> Run | None:
        with opened_store(home) as store:
            run = store.runs.get(run_id)
        return run if run.status not in ("queued", "running") else None

    found: Run = wait_for(done, 60, f"run {run_id} to finish")
    return found


def run_count(home: Path) -> int:
    with opened_store(home) as store:
        return len(store.runs.recent(limit=10_000))


# -- Commerce Layer signatures ---------------------------------------------------------------


def test_a_signed_commercelayer_webhook_starts_the_flow_with_its_record(server: Server) -> None:
    body = json.dumps(order_document()).encode()
    answer = server.post(
        "/webhooks/hook-orders",
        body,
        {"X-CommerceLayer-Signature": cl_signature(body), "X-CommerceLayer-Topic": "orders.place"},
    )
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run_id"]
    run = finished(server.home, run_id)
    assert (run.flow, run.trigger, run.source, run.destination) == (
        "hook-orders",
        "webhook",
        "cl",
        "ct",
    )
    # one record in (the filter step then drops it: this flow never writes)
    assert (run.status, run.counts["read"], run.counts["skipped"]) == ("succeeded", 1, 1)
    with opened_store(server.home) as store:
        assert "webhook topic orders.place" in [line.message for line in store.run_logs.of(run_id)]


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "",
        cl_signature(b"{}"),  # another body's
        "not base64 at all!",
    ],
)
def test_missing_or_wrong_signature_is_refused_and_starts_nothing(
    server: Server, signature: str | None
) -> None:
    body = json.dumps(order_document()).encode()
    before = run_count(server.home)
    headers = {} if signature is None else {"X-CommerceLayer-Signature": signature}
    answer = server.post("/webhooks/hook-orders", body, headers)
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid or missing signature"}
    assert run_count(server.home) == before


def test_signed_with_another_secret_is_refused(server: Server) -> None:
    body = json.dumps(order_document()).encode()
    before = run_count(server.home)
    wrong = cl_signature(body, CL_SECRET + "x")
    answer = server.post("/webhooks/hook-orders", body, {"X-CommerceLayer-Signature": wrong})
    assert answer.status_code == 401
    assert run_count(server.home) == before


def test_a_tampered_body_is_refused(server: Server) -> None:
    body = json.dumps(order_document("1001")).encode()
    signature = cl_signature(body)
    tampered = body.replace(b'"1001"', b'"1002"')
    assert tampered != body
    before = run_count(server.home)
    answer = server.post(
        "/webhooks/hook-orders", tampered, {"X-CommerceLayer-Signature": signature}
    )
    assert answer.status_code == 401
    # the signature is over the exact bytes: even re-serialising the same JSON breaks it
    respaced = json.dumps(order_document("1001"), indent=1).encode()
    answer = server.post(
        "/webhooks/hook-orders", respaced, {"X-CommerceLayer-Signature": signature}
    )
    assert answer.status_code == 401
    assert run_count(server.home) == before


def test_signed_but_not_a_jsonapi_document_is_a_bad_request(server: Server) -> None:
    for body in (b"not json", b"[1, 2]", b'{"data": []}'):
        answer = server.post(
            "/webhooks/hook-orders", body, {"X-CommerceLayer-Signature": cl_signature(body)}
        )
        assert answer.status_code == 400, body
        assert "error" in answer.json()


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = b'{"data": {"id": "x", "type": "orders"}}'
    assert cl_webhooks.valid_signature(body, cl_signature(body), CL_SECRET)
    assert not cl_webhooks.valid_signature(body, cl_signature(body + b" "), CL_SECRET)
    now = datetime.now(UTC)
    expires = str(int(now.timestamp()) + 60)
    good = webhooks.url_signature("f", int(expires), CL_SECRET)
    assert webhooks.valid_url("f", expires, good, CL_SECRET, now)
    assert not webhooks.valid_url("f", expires, "0" * 64, CL_SECRET, now)
    assert len(compared) == 4  # every check went through hmac.compare_digest
    # and nothing in the modules compares a signature with == or !=
    for module in (webhooks, cl_webhooks):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert not [line for line in source.splitlines() if "signature" in line and "==" in line]


# -- signed URLs -----------------------------------------------------------------------------


def signed_url(server: Server, ttl: str = "1h") -> str:
    done = run_cli(
        server.home, "webhooks", "url", "hook-generic", "--base-url", server.url, "--ttl", ttl
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def post_url(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, timeout=30)


def test_a_signed_url_starts_the_flow_with_the_posted_records(server: Server) -> None:
    url = signed_url(server)
    assert url.startswith(f"{server.url}/webhooks/hook-generic?expires=")
    answer = post_url(url, json.dumps([{"key": "a"}, {"key": "b"}]).encode())
    assert answer.status_code == 202, answer.text
    run = finished(server.home, answer.json()["run_id"])
    assert (run.trigger, run.status, run.counts["read"]) == ("webhook", "succeeded", 2)


def test_expired_and_tampered_signed_urls_are_refused(server: Server) -> None:
    body = b'{"key": "a"}'
    before = run_count(server.home)
    past = datetime.now(UTC) - timedelta(hours=2)
    expired = webhooks.signed_url(
        server.url, "hook-generic", server.generic_secret, timedelta(hours=1), past
    )
    assert post_url(expired, body).status_code == 401

    parts = urlsplit(signed_url(server))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{server.url}{parts.path}"
    later = {**query, "expires": str(int(query["expires"]) + 86_400)}  # extended by hand
    flipped = {
        **query,
        "signature": query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1"),
    }
    for params in (
        later,
        flipped,
        {"expires": query["expires"]},
        {"signature": query["signature"]},
    ):
        answer = httpx.post(base, params=params, content=body, timeout=30)
        assert answer.status_code == 401, params
        assert answer.json() == {"error": "invalid or missing signature"}
    # a valid signature of one flow does not open another
    other = httpx.post(f"{server.url}/webhooks/hook-orders", params=query, content=body, timeout=30)
    assert other.status_code == 401
    assert run_count(server.home) == before


def test_the_signed_url_is_what_the_documentation_says() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    url = webhooks.signed_url(
        "https://hooks.example.com/", "my-flow", "s" * 32, timedelta(days=1), now
    )
    expires = int(now.timestamp()) + 86_400
    expected = hmac.new(b"s" * 32, f"my-flow:{expires}".encode(), hashlib.sha256).hexdigest()
    assert (
        url == f"https://hooks.example.com/webhooks/my-flow?expires={expires}&signature={expected}"
    )


# -- refusals before any signature -----------------------------------------------------------


def test_unknown_disabled_or_hookless_flows_are_not_found(server: Server) -> None:
    body = json.dumps(order_document()).encode()
    headers = {"X-CommerceLayer-Signature": cl_signature(body)}
    before = run_count(server.home)
    for path in (
        "/webhooks/no-such-flow",
        "/webhooks/hook-disabled",
        "/webhooks/hook-none",
        "/webhooks/..%2F..%2Fetc%2Fpasswd",
        "/webhooks/Hook-Orders",
    ):
        answer = server.post(path, body, headers)
        assert answer.status_code == 404, path
        assert _reason(answer.json())
    assert run_count(server.home) == before


def test_a_busy_binding_answers_409_with_the_busy_run(server: Server) -> None:
    with opened_store(server.home) as store:
        runs = store.runs
        holder = held_run(runs, "hook-orders", "cl", "ct")
        try:
            body = json.dumps(order_document()).encode()
            answer = server.post(
                "/webhooks/hook-orders", body, {"X-CommerceLayer-Signature": cl_signature(body)}
            )
            assert answer.status_code == 409
            assert answer.json()["run_id"] == holder.id
            assert f"run {holder.id}" in answer.json()["error"]
        finally:
            runs.finish(holder.id, "stopped")


def test_an_oversized_body_is_refused(server: Server) -> None:
    answer = server.post("/webhooks/hook-orders", b"x" * (5 * 1024 * 1024 + 1))
    assert answer.status_code == 413


# -- the secret ------------------------------------------------------------------------------


def test_the_secret_is_stored_encrypted_and_survives_key_rotation(server: Server) -> None:
    with opened_store(server.home) as store:
        with Sessions(store.engine).read() as session:
            stored = {r.flow: str(r.secret_enc) for r in session.scalars(select(WebhookSecretRow))}
        assert set(stored) == {"hook-orders", "hook-generic"}
        assert CL_SECRET not in stored["hook-orders"]
        assert server.generic_secret not in stored["hook-generic"]
        raw = (server.home / "cartwire.db").read_bytes()
        assert CL_SECRET.encode() not in raw
        assert store.encryption.rotate() >= 4  # two instances + two webhook secrets
        assert store.webhook_secrets.get("hook-orders") == CL_SECRET
        assert store.webhook_secrets.get("hook-generic") == server.generic_secret


def test_secret_command_options(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_flow(home, "hook-none", NO_HOOK)
    bind(home, "hook-none", "ct", "cl")
    neither = run_cli(home, "webhooks", "secret", "hook-none")
    assert neither.returncode == 2
    assert "exactly one of" in neither.stderr
    both = run_cli(home, "webhooks", "secret", "hook-none", "--stdin", "--generate")
    assert both.returncode == 2
    short = run_cli(home, "webhooks", "secret", "hook-none", "--stdin", stdin="short\n")
    assert short.returncode == 2
    env = run_cli(
        home, "webhooks", "secret", "hook-none", "--set-env", "HOOK", env={"HOOK": CL_SECRET}
    )
    assert env.returncode == 0, env.stderr
    assert CL_SECRET not in env.stdout + env.stderr  # set, never echoed
    unbound = run_cli(home, "webhooks", "secret", "other", "--stdin", stdin=CL_SECRET + "\n")
    assert unbound.returncode == 1
    assert "no binding" in unbound.stderr
    made = run_cli(home, "webhooks", "secret", "hook-none", "--generate", "--json")
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["secret"]
    assert len(secret) >= 32
    with opened_store(home) as store:
        assert store.webhook_secrets.get("hook-none") == secret
        store.bindings.bind("hook-none", "ct", "cl", enabled=False)  # disabling keeps it
        assert store.webhook_secrets.get("hook-none") == secret
    # a flow without a signed_url trigger gets no URL
    url = run_cli(home, "webhooks", "url", "hook-none", "--base-url", "http://x")
    assert url.returncode == 2
    assert "signed_url" in url.stderr
    with opened_store(home) as store:  # the secret belongs to the binding and goes with it
        store.bindings.unbind("hook-none")
        assert store.webhook_secrets.get("hook-none") is None


# -- end to end: a Commerce Layer order webhook becomes a commercetools order -----------------


def order_hook_home(tmp_path: Path, ct: Sandbox, cl: Sandbox) -> Path:
    """A home with both sandbox instances, `cl-orders-to-ct-orders` enabled with a webhook
    secret, and the commercetools product its test orders refer to."""
    home = tmp_path / "home"
    add_sandbox_instances(home, ct, cl)
    enabled = run_cli(
        home, "flows", "enable", "cl-orders-to-ct-orders", "--source", "cl", "--destination", "ct"
    )
    assert enabled.returncode == 0, enabled.stderr
    done = run_cli(
        home, "webhooks", "secret", "cl-orders-to-ct-orders", "--stdin", stdin=CL_SECRET + "\n"
    )
    assert done.returncode == 0, done.stderr
    ct_product_with_sku(ct, "WH-SKU-1")  # commercetools imports lines of known variants only
    return home


def serve(home: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process(home, "webhooks", "serve", "--port", str(port))
    wait_for(lambda: _up(port, process), 60, "the webhook server")
    return process, f"http://127.0.0.1:{port}/webhooks/cl-orders-to-ct-orders"


def deliver(hook: str, body: bytes, **headers: str) -> int:
    """POST a signed delivery as Commerce Layer does; the id of the run it started."""
    answer = httpx.post(
        hook,
        content=body,
        headers={"X-CommerceLayer-Signature": cl_signature(body), **headers},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    run_id: int = answer.json()["run_id"]
    return run_id


def test_a_commercelayer_order_webhook_imports_the_order_into_commercetools(
    tmp_path: Path, ct: Sandbox, cl: Sandbox
) -> None:
    home = order_hook_home(tmp_path, ct, cl)
    body = placed_order_document(cl, "WH-7001")

    process, hook = serve(home)
    try:
        run = finished(home, deliver(hook, body, **{"X-CommerceLayer-Topic": "orders.place"}))
        assert (run.status, run.counts["read"], run.counts["created"]) == ("succeeded", 1, 1), (
            run.error
        )
        # the same delivery again (Commerce Layer retries): the order is not imported twice
        rerun = finished(home, deliver(hook, body))
        assert (rerun.status, rerun.counts["created"]) == ("succeeded", 0), rerun.error
    finally:
        process.stop()
    orders = ct_orders(ct, "WH-7001")
    assert len(orders) == 1
    [order] = orders
    assert [(li["variant"]["sku"], li["quantity"]) for li in order["lineItems"]] == [
        ("WH-SKU-1", 2)
    ]
    assert order["shippingAddress"]["city"] == "Berlin"


def test_a_webhook_run_killed_with_its_server_is_resumed_when_it_restarts(
    tmp_path: Path, ct: Sandbox, cl: Sandbox
) -> None:
    """The sender was answered 202 and will not deliver again: the records must survive the
    server's death (SIGKILL mid-run, before the order was written) and be written once."""
    home = order_hook_home(tmp_path, ct, cl)
    body = placed_order_document(cl, "WH-7002")
    # the run's lookup of existing orders hangs, so the server dies before it writes anything
    sandbox_fault(ct, method="GET", path="/orders$", delay=8, count=1)
    process, hook = serve(home)
    try:
        run_id = deliver(hook, body)
        wait_for(lambda: ct_requests(ct, "GET", "/orders") > 0, 30, "the run's order lookup")
    finally:
        process.stop(signal.SIGKILL)
    with opened_store(home) as store:
        runs = store.runs
        assert runs.get(run_id).status == "running"  # left behind by a dead owner
        assert runs.inputs(run_id) is not None
    assert ct_orders(ct, "WH-7002") == []

    process, _ = serve(home)  # the restarted server resumes the run with its stored records
    try:
        with opened_store(home) as store:  # and is up only once the run is claimed again
            assert store.runs.get(run_id).status != "interrupted"
        run = finished(home, run_id)
    finally:
        process.stop()
    assert (run.status, run.counts["read"], run.counts["created"]) == ("succeeded", 1, 1), run.error
    assert len(ct_orders(ct, "WH-7002")) == 1
    with opened_store(home) as store:
        assert store.runs.inputs(run_id) is None  # ended for good: the payload is let go
        messages = [line.message for line in store.run_logs.of(run_id)]
        assert "resumed from its last checkpoint" in messages


def ct_requests(ct: Sandbox, method: str, path: str) -> int:
    """How many `method` requests to a path ending in `path` the sandbox has answered."""
    counters = httpx.get(f"{ct.url}/_sandbox/counters", timeout=10).json()
    return sum(
        n for key, n in counters["paths"].items() if key.startswith(method) and key.endswith(path)
    )


def _up(port: int, process: Process) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        assert process.popen.poll() is None, process.stderr()
        return False


def placed_order_document(cl: Sandbox, number: str) -> bytes:
    """A placed order loaded into the Commerce Layer sandbox, fetched with its line items and
    addresses: the exact document a `orders.place` webhook with those `include_resources`
    delivers ("in the same format that you get when fetching the same resource")."""
    admin = f"{cl.url}/_sandbox/load"

    def load(kind: str, records: list[dict[str, Any]]) -> list[str]:
        answer = httpx.post(admin, json={"type": kind, "records": records}, timeout=30)
        answer.raise_for_status()
        ids: list[str] = answer.json()["ids"]
        return ids

    api = httpx.Client(
        base_url=f"{cl.url}/api", headers={"Authorization": f"Bearer {clients.token(cl)}"}
    )
    market = api.get("/markets").json()["data"][0]["id"]
    [address] = load(
        "addresses",
        [
            {
                "attributes": {
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "line_1": "Unter den Linden 1",
                    "city": "Berlin",
                    "zip_code": "10117",
                    "state_code": "BE",
                    "country_code": "DE",
                    "phone": "+49 30 0000",
                }
            }
        ],
    )
    link = {"type": "addresses", "id": address}
    [order] = load(
        "orders",
        [
            {
                "attributes": {
                    "number": number,
                    "status": "placed",
                    "customer_email": "ada@example.com",
                    "placed_at": "2026-11-20T10:00:00Z",
                },
                "relationships": {
                    "market": {"type": "markets", "id": market},
                    "shipping_address": link,
                    "billing_address": link,
                },
            }
        ],
    )
    load(
        "line_items",
        [
            {
                "attributes": {
                    "sku_code": "WH-SKU-1",
                    "name": "Webhook shirt",
                    "quantity": 2,
                    "unit_amount_cents": 1250,
                    "item_type": "skus",
                },
                "relationships": {"order": {"type": "orders", "id": order}},
            }
        ],
    )
    fetched = api.get(
        f"/orders/{order}", params={"include": "line_items,shipping_address,billing_address"}
    )
    fetched.raise_for_status()
    return fetched.content


def ct_product_with_sku(ct: Sandbox, sku: str) -> None:
    def load(kind: str, draft: dict[str, Any]) -> None:
        answer = httpx.post(
            f"{ct.url}/_sandbox/load", json={"type": kind, "drafts": [draft]}, timeout=30
        )
        answer.raise_for_status()

    load("product-type", {"key": "wh-type", "name": "Webhook type", "description": "-"})
    load(
        "product",
        {
            "key": f"product-{sku}".lower(),
            "name": {"en": "Webhook shirt"},
            "slug": {"en": f"product-{sku}".lower()},
            "productType": {"typeId": "product-type", "key": "wh-type"},
            "masterVariant": {"sku": sku, "prices": []},
            "publish": True,
        },
    )


def ct_orders(ct: Sandbox, number: str) -> list[dict[str, Any]]:
    creds = ct.credentials
    token = httpx.post(
        f"{creds['auth_url']}/oauth/token",
        data={"grant_type": "client_credentials", "scope": creds["scope"]},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=30,
    ).json()["access_token"]
    answer = httpx.get(
        f"{creds['api_url']}/{creds['project_key']}/orders",
        params={"where": f'orderNumber="{number}"'},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    answer.raise_for_status()
    results: list[dict[str, Any]] = answer.json()["results"]
    return results
