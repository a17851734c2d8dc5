"""Platforms are plug-ins: both built-in ones come from entry points, a package that is no part
of cartwire adds a paginator by being installed, every strategy name in a connector file is
checked when the file loads, and none of that imports httpx or SQLAlchemy."""

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from cartwire.connectors import ConnectorError, connectors
from cartwire.platforms.registry import (
    CONNECTOR_FILE,
    ENTRY_POINTS,
    ERROR_CLASSIFIER,
    FLOW_FILE,
    MONEY_READER,
    PAGINATOR,
    THROTTLE,
    WEBHOOK,
    WRITER,
    Kind,
    Registry,
    RegistryError,
    UnknownName,
    registry,
)
from tests.http.local_server import serve
from tests.support import run_cli

KINDS: list[Kind[Any]] = [
    PAGINATOR,
    WRITER,
    THROTTLE,
    ERROR_CLASSIFIER,
    MONEY_READER,
    WEBHOOK,
    CONNECTOR_FILE,
    FLOW_FILE,
]

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
THROTTLE
endpoints:
  - name: orders
    entity: orders
    direction: both
    path: orders
    data_path: data
    paging: {strategy: PAGING, page_size: 25}
    write: {strategy: WRITE}
"""


def connector(paging: str = "page_number", write: str = "commercelayer", throttle: str = "") -> str:
    throttled = f"throttle: {{strategy: {throttle}}}" if throttle else ""
    return (
        CONNECTOR.replace("PAGING", paging).replace("WRITE", write).replace("THROTTLE", throttled)
    )


def user_file(home: Path, text: str) -> Path:
    (home / "connectors").mkdir(exist_ok=True)
    path = home / "connectors" / "acme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_both_platforms_come_from_entry_points() -> None:
    points = {p.name: p.value for p in metadata.entry_points(group=ENTRY_POINTS)}
    assert points["commercetools"] == "cartwire.platforms.commercetools:register"
    assert points["commercelayer"] == "cartwire.platforms.commercelayer:register"
    assert registry().names(CONNECTOR_FILE) == ["commercelayer", "commercetools"]
    assert {"ct_id_keyset", "cl_id_keyset", "page_number"} <= set(registry().names(PAGINATOR))
    assert registry().names(THROTTLE) == ["commercelayer_limits"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_every_registered_name_resolves(kind: Kind[Any]) -> None:
    """A reference that names a missing module, attribute or file, or a class whose `name`
    differs from its registered one, fails here rather than in a user's sync."""
    for name in registry().names(kind):
        assert registry().get(kind, name) is not None


def test_an_unknown_name_says_the_kind_and_the_known_names() -> None:
    with pytest.raises(UnknownName) as caught:
        registry().get(THROTTLE, "nope")
    assert str(caught.value) == "unknown throttle strategy 'nope' (known: commercelayer_limits)"


def test_a_name_registered_twice_names_both_providers() -> None:
    twice = Registry()
    twice.load("first", lambda r: r.add(PAGINATOR, "same", "a.b:C"))
    with pytest.raises(RegistryError, match="second: paging strategy 'same' is already registered"):
        twice.load("second", lambda r: r.add(PAGINATOR, "same", "d.e:F"))


_LIGHT = """
import sys
from cartwire.connectors import connectors
from cartwire.platforms.registry import registry
known = connectors()
assert {"commercetools", "commercelayer", "acme"} <= set(known), known
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "sqlalchemy"))
print(heavy)
"""


def test_loading_every_connector_imports_neither_httpx_nor_sqlalchemy(tmp_path: Path) -> None:
    user_file(tmp_path, connector(throttle="commercelayer_limits"))
    done = subprocess.run(
        [sys.executable, "-c", _LIGHT],
        env={**os.environ, "CARTWIRE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "key", "bad", "kind"),
    [
        (
            connector(paging="page_numbr"),
            "endpoints.orders.paging.strategy",
            "page_numbr",
            PAGINATOR,
        ),
        (connector(write="rest_writr"), "endpoints.orders.write.strategy", "rest_writr", WRITER),
        (connector(throttle="slowly"), "throttle.strategy", "slowly", THROTTLE),
    ],
    ids=["paging", "write", "throttle"],
)
def test_an_unknown_strategy_fails_as_the_file_loads(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    key: str,
    bad: str,
    kind: Kind[object],
) -> None:
    path = user_file(tmp_path, text)
    known = ", ".join(registry().names(kind))
    expected = f"{path}: {key}: unknown {kind.label} {bad!r} (known: {known})"
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    with pytest.raises(ConnectorError) as caught:
        connectors()
    assert str(caught.value) == expected
    done = run_cli(tmp_path, "connectors", "list")
    assert done.returncode != 0
    assert expected in done.stderr


# A package that is no part of cartwire: one module and its installed metadata, as pip leaves
# them in site-packages.
PLUGIN = '''
"""Acme's paging: page[number]/page[size] and meta.total without options in the file."""

from typing import Any

from cartwire.http.paging.generic import PageNumber

PRESET = {"page_param": "page[number]", "size_param": "page[size]", "total_path": "meta.total"}


class AcmePages(PageNumber):
    name = "acme_pages"

    def option(self, key: str, default: Any) -> Any:
        return self.options.get(key, PRESET.get(key, default))


def register(registry: Any) -> None:
    from cartwire.platforms.registry import PAGINATOR

    registry.add(PAGINATOR, "acme_pages", "acme_paging:AcmePages")
'''


def plugin(folder: Path) -> dict[str, str]:
    """Install the plug-in into `folder`; the environment that puts it on the path."""
    folder.mkdir()
    (folder / "acme_paging.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = folder / "acme_paging-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-paging\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINTS}]\nacme = acme_paging:register\n", encoding="utf-8"
    )
    path = os.pathsep.join([str(folder), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {"PYTHONPATH": path}


def test_an_installed_plug_in_pages_a_user_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    env = plugin(tmp_path / "site")
    user_file(home, connector(paging="acme_pages"))
    # Without the plug-in the file names an unknown paginator ...
    refused = run_cli(home, "connectors", "list")
    assert refused.returncode != 0
    assert "unknown paging strategy 'acme_pages'" in refused.stderr
    # ... with it, the same file reads every record through the plug-in's paginator.
    listed = run_cli(home, "connectors", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "acme" in listed.stdout
    with serve(612) as (url, served):
        fields = ["--set", f"host={url}", "--set", "client_id=me", "--set-env", "client_secret=S"]
        added = run_cli(
            home,
            "instances",
            "add",
            "acme",
            "--name",
            "acme-prod",
            *fields,
            "--no-test",
            env={**env, "S": "its-secret"},
        )
        assert added.returncode == 0, added.stderr
        done = run_cli(home, "get", "acme-prod", "orders", env=env)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == list(range(1, 613))
    assert sum(1 for _, path, _ in served.requests if path == "/api/orders") == 25
