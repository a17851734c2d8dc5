"""docs/connectors.md cannot rot: its complete example is loaded as a user connector and read
end to end, and every schema key, paging option, kind and built-in filter it lists is checked
against the code."""

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from cartwire.connectors import connectors, get_connector
from cartwire.connectors.schema import (
    AuthMethod,
    Connector,
    CredentialField,
    Endpoint,
    EndpointFilter,
    Paging,
    TokenRequest,
)
from cartwire.http.paging.generic import CursorToken, LimitOffset, LinkHeader, NextUrl, PageNumber
from cartwire.instances.service import Instances
from cartwire.platforms.registry import PAGINATOR, THROTTLE, WRITER, registry
from cartwire.store import Store
from tests.http.local_server import serve
from tests.support import run_cli

DOC = (Path(__file__).parents[2] / "docs" / "connectors.md").read_text(encoding="utf-8")


def section(heading: str, nested: bool = True) -> str:
    """The text under a heading, up to the next heading of the same or a higher level (or of
    any level, not `nested`)."""
    level = len(heading.split(" ")[0])
    start = DOC.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(rf"\n#{{1,{level if nested else 6}}} ", DOC[start:])
    return DOC[start : start + following.start()] if following else DOC[start:]


def example() -> str:
    found = re.search(r"```yaml\n(.*?)```", section("## A complete example"), re.S)
    assert found is not None
    return found.group(1)


def test_the_complete_example_reads_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "acme.yaml").write_text(example(), encoding="utf-8")
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    assert connectors()["acme"].endpoint("orders").paging == Paging(
        strategy="page_number",
        page_size=25,
        options={
            "page_param": "page[number]",
            "size_param": "page[size]",
            "total_path": "meta.total",
        },
    )
    with serve(612) as (url, _):
        with Store.open() as store:
            given = {"host": url, "client_id": "me", "client_secret": "its-secret"}
            Instances(store).add("acme", "acme-prod", given, test=False)
        done = run_cli(tmp_path, "get", "acme-prod", "orders")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == list(range(1, 613))
    assert "warning" not in done.stderr  # 25 asked, 25 served


@pytest.mark.parametrize(
    ("heading", "model"),
    [
        ("## Top level", Connector),
        ("## Auth methods", AuthMethod),
        ("### Credential fields", CredentialField),
        ("### Token request", TokenRequest),
        ("## Endpoints", Endpoint),
        ("### Filters", EndpointFilter),
    ],
)
def test_every_key_of_the_schema_is_documented(heading: str, model: type[BaseModel]) -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section(heading, nested=False), re.M))
    assert rows == set(model.model_fields)


def test_paging_keys_and_every_kind_are_documented() -> None:
    assert "`page_size`" in section("## Endpoints")
    known = registry()
    for name in [*known.names(PAGINATOR), *known.names(WRITER), *known.names(THROTTLE)]:
        assert f"| `{name}` |" in DOC or f"### `{name}`" in DOC, name


@pytest.mark.parametrize("kind", [LimitOffset, PageNumber, NextUrl, LinkHeader, CursorToken])
def test_every_generic_paging_option_is_documented(kind: type[LimitOffset]) -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section(f"### `{kind.name}`"), re.M))
    assert rows == set(kind.known_options)


@pytest.mark.parametrize("name", ["commercetools", "commercelayer"])
def test_the_filter_tables_are_what_cartwire_endpoints_prints(tmp_path: Path, name: str) -> None:
    rows = re.findall(r"^\| `([a-z/_-]+)` \| (.*) \|$", section(f"### {name}"), re.M)
    documented = {endpoint: re.findall(r"`([^`]+)`", cells) for endpoint, cells in rows}
    expected = {e.name: [f.key for f in e.filters] for e in get_connector(name).endpoints}
    assert documented == expected
    printed = json.loads(run_cli(tmp_path, "endpoints", name, "--json").stdout)
    assert {row["name"]: [f["key"] for f in row["filters"]] for row in printed} == expected
