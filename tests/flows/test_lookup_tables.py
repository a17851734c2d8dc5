"""Lookup tables a run starts with, between two newly added sandbox instances (no `demo`):
derived from the destination or the flow's defaults, an imported table winning, and a table
that is not ready refusing the run before anything is read or written; `flows validate` and
`flows validate --json` report the same."""

import json
from pathlib import Path
from typing import Any

import pytest

from cartwire.flows.catalog import find_by_name
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from tests.flows.world import World
from tests.sandbox_instances import add_instance
from tests.support import run_cli

INSTANCES = ("--source", "my-ct", "--destination", "my-cl")

# A user flow whose skus take their shipping category through a table of its own, looked up
# by a fixed value: the key it needs ("standard") is known before the run.
SHIPPING = """\
name: skus-by-shipping-table
source: {connector: commercetools, endpoint: products}
steps:
  - split: {paths: [masterData.current.masterVariant], as: variant, parent: product}
  - map:
      fields:
        code: variant.sku
        name: {from: product.masterData.current.name, transform: [{localized: en}]}
        shipping_category.code: {value: standard, transform: [{lookup: shipping-categories}]}
destination: {connector: commercelayer, endpoint: skus}
"""


@pytest.fixture
def fresh(tmp_path: Path, ct: Sandbox, cl: Sandbox, monkeypatch: pytest.MonkeyPatch) -> World:
    """Seeded sandboxes and two instances added the way a user adds them: no lookup table."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    catalogue = Catalogue(seed=11, products=12, customers=1, orders=1)
    seed(catalogue, ct, cl)
    store = Store.open()
    add_instance(store, ct, "my-ct")
    add_instance(store, cl, "my-cl")
    assert store.lookup_tables.sizes() == {}
    return World(tmp_path, store, catalogue, ct, cl)


def flow_file(world: World, text: str) -> Path:
    path = world.home / "user-flow.yaml"
    path.write_text(text)
    return path


def runs(world: World) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(run_cli(world.home, "runs", "list", "--json").stdout)
    return found


def test_the_readme_command_on_fresh_instances_writes_every_price(fresh: World) -> None:
    done = run_cli(fresh.home, "flows", "run", "ct-products-to-cl-skus", *INSTANCES)
    assert done.returncode == 0, done.stdout + done.stderr
    derived = "lookup table currencies-to-price-lists: 3 entries derived from my-cl's price_lists"
    assert derived in done.stderr
    variants = [v for p in fresh.catalogue.products() for v in p.variants]
    assert len(fresh.cl_all("prices")) == 3 * len(variants)
    [run] = runs(fresh)
    assert (run["status"], run["failed"]) == ("succeeded", 0)
    shown = json.loads(run_cli(fresh.home, "runs", "show", str(run["run_id"]), "--json").stdout)
    assert derived in [line["message"] for line in shown["logs"]]

    stock = run_cli(fresh.home, "flows", "run", "ct-inventory-to-cl-stock", *INSTANCES, "--json")
    assert stock.returncode == 0, stock.stderr
    assert json.loads(stock.stdout)["failed"] == 0
    assert len(fresh.cl_all("stock_items")) == 2 * len(variants)


def test_an_imported_table_wins_over_derived_entries(fresh: World) -> None:
    table = fresh.home / "currencies.csv"
    table.write_text("source,target\nEUR,eur\n")
    assert (
        run_cli(fresh.home, "lookups", "import", "currencies-to-price-lists", str(table)).returncode
        == 0
    )
    done = run_cli(fresh.home, "flows", "run", "ct-products-to-cl-skus", *INSTANCES)
    assert done.returncode == 1
    assert (
        "lookup table currencies-to-price-lists: 1 entry imported with `cartwire lookups import` "
        "(used instead of the flow's own entries)"
    ) in done.stderr
    [run] = runs(fresh)
    assert run["status"] == "partially succeeded"
    shown = json.loads(run_cli(fresh.home, "runs", "show", str(run["run_id"]), "--json").stdout)
    messages = {f["message"] for f in shown["failures"]}
    assert any(
        'no entry for "USD" in lookup table "currencies-to-price-lists"; import it with '
        "`cartwire lookups import currencies-to-price-lists FILE.csv`" in m
        for m in messages
    ), messages


def test_a_missing_table_refuses_to_start_and_writes_nothing(fresh: World) -> None:
    path = flow_file(fresh, SHIPPING)
    fresh.reset_counters()
    done = run_cli(fresh.home, "flows", "run", str(path), *INSTANCES)
    assert done.returncode == 2
    assert 'lookup table "shipping-categories" is missing' in done.stderr
    assert "`cartwire lookups import shipping-categories FILE.csv`" in done.stderr
    assert "the header `source,target`" in done.stderr  # the CSV format, shown
    assert runs(fresh) == []
    assert fresh.writes(fresh.cl) == 0
    assert fresh.writes(fresh.ct) == 0


def test_a_table_without_a_fixed_key_refuses_to_start(fresh: World) -> None:
    table = fresh.home / "shipping.csv"
    table.write_text("source,target\nexpress,merchandise\n")
    assert (
        run_cli(fresh.home, "lookups", "import", "shipping-categories", str(table)).returncode == 0
    )
    done = run_cli(fresh.home, "flows", "run", str(flow_file(fresh, SHIPPING)), *INSTANCES)
    assert done.returncode == 2
    assert (
        'lookup table "shipping-categories" has no entry for "standard", which the flow needs'
    ) in done.stderr
    assert runs(fresh) == []

    table.write_text("source,target\nstandard,merchandise\n")
    assert (
        run_cli(fresh.home, "lookups", "import", "shipping-categories", str(table)).returncode == 0
    )
    done = run_cli(fresh.home, "flows", "run", str(flow_file(fresh, SHIPPING)), *INSTANCES)
    assert done.returncode == 0, done.stderr
    assert len(fresh.cl_all("skus")) == fresh.catalogue.product_count


def test_default_entries_of_the_flow_file_are_used_and_said(fresh: World) -> None:
    text = SHIPPING + "lookups:\n  shipping-categories:\n    default: {standard: merchandise}\n"
    done = run_cli(fresh.home, "flows", "run", str(flow_file(fresh, text)), *INSTANCES)
    assert done.returncode == 0, done.stderr
    assert "lookup table shipping-categories: 1 entry from the flow file's defaults" in done.stderr


def test_required_keys_are_checked_against_derived_entries(fresh: World) -> None:
    text = SHIPPING.replace("{value: standard, ", "{from: product.key, ") + (
        "lookups:\n"
        "  shipping-categories:\n"
        "    derive: {endpoint: shipping_categories, key: code, value: code}\n"
        "    required: [merchandise, oversize]\n"
    )
    done = run_cli(fresh.home, "flows", "run", str(flow_file(fresh, text)), *INSTANCES)
    assert done.returncode == 2
    assert (
        'lookup table "shipping-categories" has no entry for "oversize", which the flow needs '
        "(it has 1 entry derived from my-cl's shipping_categories)"
    ) in done.stderr
    assert runs(fresh) == []


def test_a_derived_table_that_is_empty_or_ambiguous_refuses_to_start(fresh: World) -> None:
    text = find_by_name("ct-products-to-cl-skus").text.replace(
        "value: code}", "value: no_such_field}"
    )
    done = run_cli(fresh.home, "flows", "run", str(flow_file(fresh, text)), *INSTANCES)
    assert done.returncode == 2
    assert (
        'lookup table "currencies-to-price-lists" is empty: no record of my-cl\'s price_lists '
        "has both currency_code and no_such_field"
    ) in done.stderr

    second = {"name": "B2B", "code": "eur-b2b", "currency_code": "EUR"}
    with fresh.cl_client() as client:
        client.post(
            "price_lists",
            content=json.dumps({"data": {"type": "price_lists", "attributes": second}}),
            headers={"Content-Type": "application/vnd.api+json"},
        ).raise_for_status()
    done = run_cli(fresh.home, "flows", "run", "ct-products-to-cl-skus", *INSTANCES)
    assert done.returncode == 2
    assert (
        'lookup table "currencies-to-price-lists" cannot be derived from my-cl\'s price_lists: '
        'currency_code is not unique ("EUR" → eur, eur-b2b)'
    ) in done.stderr
    assert runs(fresh) == []


def test_validate_reports_a_missing_table(fresh: World) -> None:
    path = flow_file(fresh, SHIPPING)
    done = run_cli(fresh.home, "flows", "validate", str(path))
    assert done.returncode == 1
    assert f"{path}: valid" in done.stdout
    assert 'error: lookup table "shipping-categories" is missing' in done.stderr
    assert "`cartwire lookups import shipping-categories FILE.csv`" in done.stderr

    as_json = run_cli(fresh.home, "flows", "validate", str(path), "--json")
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["valid"] is True
    assert document["problems"] == []
    assert document["lookups"]["checked"] is True
    [table] = document["lookups"]["tables"]
    assert table["table"] == "shipping-categories"
    assert (table["status"], table["entries"], table["ok"]) == ("missing", 0, False)
    assert "cartwire lookups import shipping-categories FILE.csv" in table["message"]


def test_validate_derives_from_the_given_destination(fresh: World) -> None:
    path = flow_file(fresh, find_by_name("ct-products-to-cl-skus").text)
    unbound = run_cli(fresh.home, "flows", "validate", str(path))
    assert unbound.returncode == 0, unbound.stderr
    assert (
        "lookup table currencies-to-price-lists: derived at run start from the destination's "
        "price_lists (give --destination to check now)"
    ) in unbound.stdout
    bound = run_cli(fresh.home, "flows", "validate", str(path), "--destination", "my-cl", "--json")
    assert bound.returncode == 0, bound.stderr
    [table] = json.loads(bound.stdout)["lookups"]["tables"]
    assert (table["status"], table["entries"], table["ok"]) == ("derived", 3, True)
    assert table["source"] == "derived from my-cl's price_lists"


def test_validate_json_of_a_file_with_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SHIPPING.replace("{localized: en}", "{localised: en}"))
    done = run_cli(tmp_path, "flows", "validate", str(path), "--json")
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert document["valid"] is False
    [problem] = document["problems"]
    assert problem["path"] == "steps[1].map.fields.name.transform[0]"
    assert problem["message"] == 'unknown transform "localised"; did you mean "localized"?'
    assert document["lookups"] == {
        "checked": False,
        "reason": "the file has problems",
        "tables": [],
    }


def test_validate_without_a_store_says_it_could_not_check(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(SHIPPING)
    nowhere = {"CARTWIRE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    done = run_cli(tmp_path, "flows", "validate", str(path), env=nowhere)
    assert done.returncode == 0, done.stderr
    assert "lookup tables not checked: the cartwire store could not be opened" in done.stderr
    as_json = run_cli(tmp_path, "flows", "validate", str(path), "--json", env=nowhere)
    assert as_json.returncode == 0
    lookups = json.loads(as_json.stdout)["lookups"]
    assert lookups["checked"] is False
    assert lookups["reason"].startswith("the cartwire store could not be opened")
