"""`cartwire get`, `send` and `endpoints`: the real console script against the real sandboxes."""

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.http.test_client import counted, ct_path, fault
from tests.sandbox_instances import add_instance
from tests.support import run_cli


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def with_ct(home: Path, ct: Sandbox) -> Sandbox:
    with Store.open() as store:
        add_instance(store, ct, "ct")
    return ct


@pytest.fixture
def with_cl(home: Path, cl: Sandbox) -> Sandbox:
    with Store.open() as store:
        add_instance(store, cl, "cl")
    return cl


def load_channels(ct: Sandbox, count: int) -> None:
    drafts = [{"key": f"ch-{n:05d}", "roles": ["InventorySupply"]} for n in range(count)]
    body = {"type": "channel", "drafts": drafts}
    httpx.post(f"{ct.url}/_sandbox/load", json=body, timeout=60).raise_for_status()
    httpx.delete(f"{ct.url}/_sandbox/counters").raise_for_status()


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def one_line_error(done: Any, code: int, *expected: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for text in expected:
        assert text in done.stderr


# -- get ---------------------------------------------------------------------------------------


def test_get_streams_every_record_as_json_lines(home: Path, with_ct: Sandbox) -> None:
    load_channels(with_ct, 1203)
    done = run_cli(home, "get", "ct", "channels")
    assert done.returncode == 0, done.stderr
    keys = [record["key"] for record in lines(done.stdout)]
    assert sorted(keys) == [f"ch-{n:05d}" for n in range(1203)]
    assert counted(with_ct, f"GET {ct_path(with_ct, 'channels')}") == 3  # 500 a page
    assert "1203 record(s) from ct channels: 3 request(s), 0 retries" in done.stderr


def test_get_as_one_json_array_and_as_csv(home: Path, with_ct: Sandbox) -> None:
    load_channels(with_ct, 12)
    as_json = run_cli(home, "get", "ct", "channels", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert len(json.loads(as_json.stdout)) == 12
    as_csv = run_cli(home, "get", "ct", "channels", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == 12
    assert {"id", "key", "roles", "version"} <= set(rows[0])
    assert json.loads(rows[0]["roles"]) == ["InventorySupply"]
    empty = run_cli(
        home, "get", "ct", "channels", "--format", "json", "--filter", 'where=key = "none"'
    )
    assert json.loads(empty.stdout) == []


def test_csv_writes_booleans_as_json_spells_them(home: Path, with_cl: Sandbox) -> None:
    done = run_cli(home, "get", "cl", "price_lists", "--format", "csv")
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO(done.stdout)))
    assert row["tax_included"] in ("true", "false")
    assert "True" not in done.stdout
    assert "False" not in done.stdout


def test_get_with_filters_limit_and_since(home: Path, with_ct: Sandbox, with_cl: Sandbox) -> None:
    load_channels(with_ct, 30)
    done = run_cli(
        home, "get", "ct", "channels", "--filter", 'where=key in ("ch-00003", "ch-00007")'
    )
    assert sorted(r["key"] for r in lines(done.stdout)) == ["ch-00003", "ch-00007"]
    limited = run_cli(home, "get", "ct", "channels", "--limit", "7")
    assert len(lines(limited.stdout)) == 7
    future = run_cli(home, "get", "ct", "channels", "--since", "2999-01-01T00:00:00")
    assert future.returncode == 0, future.stderr
    assert future.stdout == ""

    markets = run_cli(home, "get", "cl", "markets", "--filter", "q.code_eq=europe")
    assert markets.returncode == 0, markets.stderr
    assert [m["code"] for m in lines(markets.stdout)] == ["europe"]


def test_a_retried_read_says_so_and_a_failed_one_fails_loudly(home: Path, with_ct: Sandbox) -> None:
    load_channels(with_ct, 3)
    fault(with_ct, path="/channels$", status=503, count=2)
    retried = run_cli(home, "get", "ct", "channels")
    assert len(lines(retried.stdout)) == 3
    assert "2 retries" in retried.stderr

    fault(with_ct, path="/channels$", status=500)
    failed = run_cli(home, "get", "ct", "channels", "--format", "json")
    one_line_error(failed, 1, "500 General", "request id cartwire-")
    assert failed.stdout == ""  # no array that looks complete


def test_bad_input_names_what_was_wrong(home: Path, with_ct: Sandbox) -> None:
    cases: list[tuple[tuple[str, ...], str]] = [
        (("get", "nope", "channels"), "no instance named 'nope'"),
        (("get", "ct", "chanels"), "has no endpoint 'chanels'"),
        (("get", "ct", "channels", "--filter", "colour=red"), "has no filter 'colour'"),
        (("get", "ct", "channels", "--filter", "where"), "expected KEY=VALUE"),
        (("get", "ct", "channels", "--since", "yesterday"), "--since 'yesterday' is not an ISO"),
        (("get", "ct", "channels", "--format", "xml"), "--format 'xml'"),
        (("get", "ct", "orders/import"), "does not receive records"),
        (("send", "ct", "stores"), "does not send records"),
        (("endpoints", "nope"), "no instance or connector named 'nope'"),
    ]
    for args, expected in cases:
        one_line_error(run_cli(home, *args, stdin=""), 2, expected)
    assert httpx.get(f"{with_ct.url}/_sandbox/counters").json()["api_requests"] == 0


# -- send --------------------------------------------------------------------------------------


def channel_lines(*keys: str, **fields: Any) -> str:
    return "".join(
        json.dumps({"key": key, "roles": ["InventorySupply"], **fields}) + "\n" for key in keys
    )


def test_send_creates_then_finds_nothing_to_change(home: Path, with_ct: Sandbox) -> None:
    records = channel_lines("a", "b", "c")
    first = run_cli(home, "send", "ct", "channels", "--json", stdin=records)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["created"], summary["failed"], summary["dry_run"]) == (3, 0, False)
    assert "3 created, 0 updated, 0 unchanged, 0 failed" in first.stderr

    path = home / "channels.jsonl"
    path.write_text(records + "\n")  # a blank line is skipped
    again = run_cli(home, "send", "ct", "channels", "--file", str(path), "--json")
    assert json.loads(again.stdout)["unchanged"] == 3
    assert counted(with_ct, f"POST {ct_path(with_ct, 'channels')}") == 3  # creates only


def test_send_reports_each_failure_and_exits_1(home: Path, with_cl: Sandbox) -> None:
    good = {"code": "CLI-1", "name": "One", "shipping_category": {"code": "merchandise"}}
    bad = {"code": "CLI-2", "shipping_category": {"code": "merchandise"}}  # no name
    stdin = json.dumps(good) + "\n" + json.dumps(bad) + "\n"
    done = run_cli(home, "send", "cl", "skus", "--json", stdin=stdin)
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert (summary["created"], summary["failed"]) == (1, 1)
    [failure] = summary["failures"]
    assert failure["key"] == "CLI-2"
    assert failure["code"] == "VALIDATION_ERROR"
    assert "failed CLI-2: VALIDATION_ERROR: " in done.stderr


def test_send_dry_run_writes_nothing(home: Path, with_ct: Sandbox) -> None:
    done = run_cli(home, "send", "ct", "channels", "--dry-run", stdin=channel_lines("x", "y"))
    assert done.returncode == 0, done.stderr
    assert "(dry run): 2 created" in done.stderr
    assert counted(with_ct, f"POST {ct_path(with_ct, 'channels')}") == 0


def test_send_dry_run_shows_each_changed_field(home: Path, with_ct: Sandbox) -> None:
    sent = run_cli(home, "send", "ct", "channels", stdin=channel_lines("a", name={"en": "Old"}))
    assert sent.returncode == 0, sent.stderr
    changed = channel_lines("a", name={"en": "New"}) + channel_lines("b")
    done = run_cli(home, "send", "ct", "channels", "--dry-run", "--json", stdin=changed)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changes"] == [
        {
            "key": "a",
            "output": "channels",
            "action": "update",
            "field": "name",
            "old": {"en": "Old"},
            "new": {"en": "New"},
        },
        {"key": "b", "output": "channels", "action": "create", "record": None},
    ]
    lines = done.stderr.splitlines()
    assert (
        lines[lines.index("would update channels a") + 1]
        == '    name: {"en": "Old"} → {"en": "New"}'
    )
    assert "would create channels b" in lines
    assert counted(with_ct, f"POST {ct_path(with_ct, 'channels')}") == 1  # the first send's


def test_send_merges_objects_and_replace_sends_them_as_given(home: Path, with_ct: Sandbox) -> None:
    def name() -> Any:
        found = run_cli(home, "get", "ct", "channels", "--filter", 'where=key = "a"')
        return lines(found.stdout)[0]["name"]

    both = {"en": "Europe", "de": "Europa"}
    assert (
        run_cli(home, "send", "ct", "channels", stdin=channel_lines("a", name=both)).returncode == 0
    )
    english = channel_lines("a", name={"en": "EU"})
    merged = run_cli(home, "send", "ct", "channels", "--json", stdin=english)
    assert json.loads(merged.stdout)["updated"] == 1
    assert name() == {"en": "EU", "de": "Europa"}

    replaced = run_cli(home, "send", "ct", "channels", "--replace", "name", "--json", stdin=english)
    assert json.loads(replaced.stdout)["updated"] == 1, replaced.stderr
    assert name() == {"en": "EU"}
    again = run_cli(home, "send", "ct", "channels", "--replace", "name", "--json", stdin=english)
    assert json.loads(again.stdout)["unchanged"] == 1

    one_line_error(
        run_cli(home, "send", "ct", "channels", "--replace", "name.en", stdin=english),
        2,
        "--replace 'name.en': expected a top-level field, e.g. --replace name",
    )
    help_text = run_cli(home, "send", "--help").stdout
    assert "--replace" in help_text


def test_send_refuses_bad_input_before_writing_anything(home: Path, with_ct: Sandbox) -> None:
    invalid = channel_lines("ok") + '{"key": "broken",\n'
    one_line_error(
        run_cli(home, "send", "ct", "channels", stdin=invalid), 2, "line 2: invalid JSON"
    )
    one_line_error(
        run_cli(home, "send", "ct", "channels", stdin=channel_lines("ok") + "[1, 2]\n"),
        2,
        "line 2: expected a JSON object, got list",
    )
    one_line_error(
        run_cli(home, "send", "ct", "channels", "--file", str(home / "missing.jsonl")),
        2,
        "missing.jsonl",
    )
    assert httpx.get(f"{with_ct.url}/_sandbox/counters").json()["api_requests"] == 0


# -- endpoints ---------------------------------------------------------------------------------


def test_endpoints_of_an_instance_or_a_connector(home: Path, with_ct: Sandbox) -> None:
    by_instance = json.loads(run_cli(home, "endpoints", "ct", "--json").stdout)
    by_connector = json.loads(run_cli(home, "endpoints", "commercetools", "--json").stdout)
    assert by_instance == by_connector
    products = next(e for e in by_instance if e["name"] == "products")
    assert (products["direction"], products["natural_key"]) == ("both", "key")
    assert "where" in [f["key"] for f in products["filters"]]
    table = run_cli(home, "endpoints", "commercelayer")
    assert table.returncode == 0
    assert "skus" in table.stdout


def test_progress_is_drawn_on_a_terminal_with_the_total_when_known(
    home: Path, with_cl: Sandbox
) -> None:
    terminal = {"TTY_INTERACTIVE": "1", "FORCE_COLOR": "1", "COLUMNS": "160"}
    done = run_cli(home, "get", "cl", "markets", env=terminal)
    assert done.returncode == 0, done.stderr
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stderr)
    assert "1/1 records 1 pages" in drawn  # records of the known total, pages
    plain = run_cli(home, "get", "cl", "markets")
    assert (
        plain.stderr
        == "1 record(s) from cl markets: 1 request(s), 0 retries, "
        + (plain.stderr.split("retries, ")[1])
    )
