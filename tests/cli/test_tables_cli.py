"""Every listing fits 80 columns without garbling: whole headers, never a line too long,
columns left out by priority (and named), `--wide` with every column and every name in full."""

import json
from pathlib import Path

import pytest

from cartwire.instances import Settings
from cartwire.sandbox.manager import COMMERCELAYER, COMMERCETOOLS, Sandbox
from cartwire.store import Store
from tests.recorded_runs import record_run
from tests.sandbox_instances import add_instance
from tests.support import run_cli

LONG_CT = "commercetools-production-europe-west"
LONG_CL = "commerce-layer-production-europe-west"
LONG_FLOW = "ct-customers-to-cl-customers"
NARROW = {"COLUMNS": "80"}


@pytest.fixture
def home(tmp_path: Path, sandboxes: dict[str, Sandbox], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Instances with long names in a pool, a binding, a lookup table and two runs."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    with Store.open() as store:
        add_instance(store, sandboxes[COMMERCETOOLS], LONG_CT, Settings(pool="shared-pool"))
        add_instance(store, sandboxes[COMMERCELAYER], LONG_CL, Settings(pool="shared-pool"))
        runs = store.runs
        store.bindings.bind(LONG_FLOW, LONG_CT, LONG_CL)
        store.lookup_tables.replace("currencies-to-price-lists", {"EUR": "eur"})
        for status in ("partially succeeded", "succeeded"):
            record_run(
                runs,
                LONG_FLOW,
                source=LONG_CT,
                destination=LONG_CL,
                status=status,
                counts={"read": 12_345, "created": 12_000},
            )
    return tmp_path


def _headers(output: str) -> list[str]:
    """The header lines of the first table in `output` (between its top and its rule)."""
    lines = output.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    rule = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    return lines[top + 1 : rule]


COMMANDS = [
    (("runs", "list"), ["run", "flow", "status", "read", "failed", "ended", "duration"]),
    (("instances", "list"), ["name", "connector"]),
    (("flows", "list"), ["name", "bound to"]),
    (("lookups", "list"), ["table", "rows"]),
    (("pools", "list"), ["name", "instances"]),
    (("endpoints", "commercetools"), ["endpoint", "natural key", "filters"]),
    (("connectors", "list"), ["name", "description"]),
    (("connectors", "show", "commercelayer"), ["key", "label", "help"]),
]


@pytest.mark.parametrize(("args", "must_show"), COMMANDS, ids=lambda a: " ".join(a))
def test_tables_fit_80_columns_with_whole_headers(
    home: Path, args: tuple[str, ...], must_show: list[str]
) -> None:
    narrow = run_cli(home, *args, env=NARROW)
    assert narrow.returncode == 0, narrow.stderr
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines()), narrow.stdout
    header = "\n".join(_headers(narrow.stdout))
    assert "…" not in header, narrow.stdout
    for name in must_show:  # the important columns are there, each header whole
        assert all(word in header for word in name.split()), (name, narrow.stdout)

    wide = run_cli(home, *args, "--wide", env=NARROW)
    assert wide.returncode == 0, wide.stderr
    assert "…" not in wide.stdout
    assert "not shown" not in wide.stdout


def test_runs_list_names_what_it_left_out_and_wide_shows_everything(home: Path) -> None:
    narrow = run_cli(home, "runs", "list", env=NARROW).stdout
    assert "(not shown: trigger, source → destination" in narrow
    assert "partially" in narrow
    assert "succeeded" in narrow
    assert "12,345" in narrow
    wide = run_cli(home, "runs", "list", "--wide", env=NARROW).stdout
    assert f"{LONG_CT} → {LONG_CL}" in wide
    assert "partially succeeded" in wide
    for header in ("trigger", "created", "started", "ended", "duration"):
        assert header in "\n".join(_headers(wide))
    [row] = [line for line in wide.splitlines() if line.startswith("│   1 ")]
    assert LONG_FLOW in row


def test_runs_list_json_has_duration_and_end(home: Path) -> None:
    listed = json.loads(run_cli(home, "runs", "list", "--json").stdout)
    for run in listed:
        assert run["ended_at"] is not None
        assert isinstance(run["duration_s"], float)
        assert run["duration_s"] >= 0
