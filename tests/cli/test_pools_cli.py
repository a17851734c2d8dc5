"""`cartwire pools set|list|remove` with the real CLI and store."""

import json
from pathlib import Path

import pytest

from cartwire.instances import Settings
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.sandbox_instances import add_instance
from tests.support import run_cli


def test_set_list_change_and_remove(tmp_path: Path) -> None:
    made = run_cli(tmp_path, "pools", "set", "shared-ct", "--size", "3", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {"name": "shared-ct", "size": 3, "instances": []}
    assert run_cli(tmp_path, "pools", "set", "shared-ct", "--size", "5").returncode == 0
    listed = json.loads(run_cli(tmp_path, "pools", "list", "--json").stdout)
    assert listed == [{"name": "shared-ct", "size": 5, "default": False, "instances": []}]
    removed = run_cli(tmp_path, "pools", "remove", "shared-ct")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(run_cli(tmp_path, "pools", "list", "--json").stdout) == []


def test_pools_named_by_instances_but_never_sized_show_the_default(
    tmp_path: Path, sandboxes: dict[str, Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    with Store.open() as store:
        ct = sandboxes["commercetools"]
        add_instance(store, ct, "a", Settings(pool="busy"))
        add_instance(store, ct, "b", Settings(pool="busy"))
    listed = run_cli(tmp_path, "pools", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"name": "busy", "size": 4, "default": True, "instances": ["a", "b"]}
    ]


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    for args, expected in [
        (("set", "p", "--size", "0"), "--size must be at least 1"),
        (("set", "no spaces", "--size", "2"), "invalid pool name"),
        (("remove", "missing"), "no pool named 'missing'"),
    ]:
        done = run_cli(tmp_path, "pools", *args)
        assert done.returncode == 2
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
