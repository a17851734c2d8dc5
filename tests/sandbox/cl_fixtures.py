"""A private Commerce Layer sandbox per test module, and a small JSON:API client for it.

Test modules bind the fixtures by assignment (`server = cl_fixtures.server_fixture()`), which
keeps fixture parameters from shadowing imports. The server runs with rate limits off; each
test starts from a reset (baseline data, no faults, zero counters, start configuration).
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import httpx
import pytest

CLIENT_ID = "cl-test-client"
CLIENT_SECRET = "cl-test-secret"
ORGANIZATION = "cl-test-org"
MEDIA_TYPE = "application/vnd.api+json"
JSONAPI = {"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE}


@dataclass
class ClServer:
    url: str
    process: subprocess.Popen[str]
    stderr: IO[str]

    def errors(self) -> str:
        """What the server wrote to stderr so far (it should stay silent)."""
        self.stderr.seek(0)
        return self.stderr.read()

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}/_sandbox/{path}", timeout=60, **kwargs)

    def token(self, scope: str | None = None) -> str:
        body = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
        body["client_secret"] = CLIENT_SECRET
        if scope:
            body["scope"] = scope
        response = httpx.post(f"{self.url}/oauth/token", json=body, timeout=10)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def api(self, scope: str | None = None) -> Api:
        return Api(self, self.token(scope))


def start_server(*extra: str) -> ClServer:
    command = [
        sys.executable,
        "-m",
        "cartwire.sandbox.commercelayer",
        "--port",
        "0",
        "--organization",
        ORGANIZATION,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        *extra,
    ]
    # stderr goes to a file (closed by stop_server): an unread pipe could fill up and block.
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, env=os.environ
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 20)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("cartwire-cl-sandbox listening on "):
        process.kill()
        process.wait(timeout=5)
        errors.seek(0)
        raise RuntimeError(f"sandbox did not start: {line!r} {errors.read()}")
    return ClServer(line.split(" on ", 1)[1].strip(), process, errors)


def stop_server(server: ClServer) -> int:
    server.process.terminate()
    status = server.process.wait(timeout=10)
    server.stderr.close()
    return status


def server_fixture() -> Any:
    @pytest.fixture(scope="module", name="server")
    def fixture() -> Iterator[ClServer]:
        server = start_server("--rate-limits", "off")
        yield server
        stop_server(server)

    return fixture


def reset_fixture() -> Any:
    @pytest.fixture(autouse=True, name="reset")
    def fixture(server: ClServer) -> None:
        server.admin("POST", "reset").raise_for_status()

    return fixture


def api_fixture() -> Any:
    @pytest.fixture(name="api")
    def fixture(server: ClServer, reset: None) -> Iterator[Api]:
        client = server.api()
        yield client
        client.close()

    return fixture


class Api:
    """An authenticated JSON:API client with helpers for documents."""

    def __init__(self, server: ClServer, token: str) -> None:
        self.server = server
        self.client = httpx.Client(
            base_url=f"{server.url}/api",
            headers={"Authorization": f"Bearer {token}", **JSONAPI},
            timeout=60,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, **kwargs)

    def create(
        self,
        type_: str,
        attributes: dict[str, Any] | None = None,
        relationships: Mapping[str, tuple[str, str | None]] | None = None,
        query: str = "",
    ) -> httpx.Response:
        return self.client.post(
            f"/{type_}{query}", content=json.dumps(document(type_, attributes, relationships))
        )

    def update(
        self,
        type_: str,
        id_: str,
        attributes: dict[str, Any] | None = None,
        relationships: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> httpx.Response:
        body = document(type_, attributes, relationships, id_)
        return self.client.patch(f"/{type_}/{id_}", content=json.dumps(body))

    def delete(self, type_: str, id_: str) -> httpx.Response:
        return self.client.delete(f"/{type_}/{id_}")

    def made(
        self, type_: str, attributes: dict[str, Any], **rels: tuple[str, str]
    ) -> dict[str, Any]:
        """Create and return the resource object, failing loudly on any error."""
        response = self.create(type_, attributes, rels)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def first_id(self, type_: str) -> str:
        response = self.get(f"/{type_}")
        assert response.status_code == 200, response.text
        identifier: str = response.json()["data"][0]["id"]
        return identifier

    def sku(self, code: str, name: str | None = None, **attributes: Any) -> dict[str, Any]:
        category = ("shipping_categories", self.first_id("shipping_categories"))
        return self.made(
            "skus",
            {"code": code, "name": name or f"SKU {code}", **attributes},
            shipping_category=category,
        )


def document(
    type_: str,
    attributes: dict[str, Any] | None = None,
    relationships: Mapping[str, tuple[str, str | None]] | None = None,
    id_: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type_}
    if id_ is not None:
        data["id"] = id_
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = {
            name: {"data": None if target_id is None else {"type": target_type, "id": target_id}}
            for name, (target_type, target_id) in relationships.items()
        }
    return {"data": data}


def decode_segment(segment: str) -> Any:
    """Decode a JWT segment as the JS SDK does: plain base64 (`atob`), no url-safe alphabet."""
    return json.loads(base64.b64decode(segment + "=" * (-len(segment) % 4), validate=True))


def wait_until(check: Callable[[], bool]) -> None:
    """Poll until `check` holds. No deadline of its own: how long the emulator takes depends on
    the machine, and pytest-timeout ends a test that truly hangs, with its traceback."""
    while not check():
        time.sleep(0.02)
