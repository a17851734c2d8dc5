"""The worked example's connector file alone (docs/examples/stockroom/, no Python) against two
real Stockroom servers, a supplier's and a shop's: instances added with `cartwire instances
add`, records read with `cartwire get`, upserted by a flow, a re-run that writes nothing, a dry
run showing a change field by field, and the change written by one PATCH of just that. Every
count is the server's. Then the writer's own rules through `Platform.upsert`: PUT, several
records under one key, a record without a key, records sharing a key, a create that finds its
key just taken, lookups without lists, and options refused by name."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cartwire.resources.writer import Change
from cartwire.services.python_api import open_instance
from tests.resources.example_api import Stockroom, catalogue, serve_stockroom
from tests.resources.stockroom_home import add_instance, cli, run_flow, stockroom_home

PRODUCTS = 120  # three source pages of 50; three lookups of up to 50 SKUs


@pytest.fixture
def rooms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str, Stockroom, Stockroom]]:
    """A home with the example connector and flow, a supplier with PRODUCTS products and an
    empty shop, an instance of each."""
    monkeypatch.setenv("CARTWIRE_HOME", str(tmp_path))
    monkeypatch.delenv("CARTWIRE_DATABASE_URL", raising=False)
    flow = stockroom_home(tmp_path, "stockroom")
    with serve_stockroom() as (supplier_url, supplier), serve_stockroom() as (shop_url, shop):
        for product in catalogue(PRODUCTS):
            supplier.add_product(**product)
        add_instance(tmp_path, "stockroom", "supplier", supplier_url)
        add_instance(tmp_path, "stockroom", "shop", shop_url)
        yield tmp_path, flow, supplier, shop


def by_sku(room: Stockroom) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in room.products.values()}


def test_the_connector_file_alone_reads_upserts_and_reruns_with_no_writes(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, flow, supplier, shop = rooms
    read = [json.loads(line) for line in cli(home, "get", "supplier", "products").splitlines()]
    assert [r["sku"] for r in read] == [f"SKU-{n:03d}" for n in range(1, PRODUCTS + 1)]

    first = run_flow(home, flow)
    assert (first["read"], first["created"], first["failed"]) == (PRODUCTS, PRODUCTS, 0)
    assert shop.count("POST", "/v1/products") == PRODUCTS
    assert shop.count("GET", "/v1/products") == 3  # one lookup of 50 SKUs a page read
    copied = {
        sku: {k: p[k] for k in ("name", "price", "stock", "attributes")}
        for sku, p in by_sku(shop).items()
    }
    assert copied == {
        sku: {k: p[k] for k in ("name", "price", "stock", "attributes")}
        for sku, p in by_sku(supplier).items()
    }

    shop.requests.clear()
    again = run_flow(home, flow)
    assert (again["unchanged"], again["created"], again["updated"]) == (PRODUCTS, 0, 0)
    assert shop.writes() == 0  # counted at the server
    assert shop.count("GET", "/v1/products") == 3


def test_a_dry_run_shows_the_change_and_the_run_patches_only_that(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, flow, supplier, shop = rooms
    run_flow(home, flow)
    changed = by_sku(supplier)["SKU-007"]
    changed["price"] = "99.00"
    changed["attributes"] = {**changed["attributes"], "color": "black"}
    before = shop.writes()

    dry = run_flow(home, flow, "--dry-run")
    assert (dry["updated"], dry["unchanged"], dry["dry_run"]) == (1, PRODUCTS - 1, True)
    assert shop.writes() == before
    fields = {c["field"]: (c["old"], c["new"]) for c in dry["changes"] if c["key"] == "SKU-007"}
    assert fields == {
        "price": ("8.50", "99.00"),
        "attributes": ({"color": "green", "size": "M"}, {"color": "black", "size": "M"}),
    }
    text = cli(
        home, "flows", "run", flow, "--source", "supplier", "--destination", "shop", "--dry-run"
    )
    assert "would update products SKU-007" in text
    assert '    price: "8.50" → "99.00"' in text

    shop.bodies.clear()
    done = run_flow(home, flow)
    assert (done["updated"], done["unchanged"]) == (1, PRODUCTS - 1)
    [(method, path, body)] = shop.bodies
    target = by_sku(shop)["SKU-007"]
    assert (method, path) == ("PATCH", f"/v1/products/{target['id']}")
    assert body == {"product": {"price": "99.00", "attributes": {"color": "black", "size": "M"}}}
    assert target["price"] == "99.00"


def connector_with(home: Path, **options: Any) -> None:
    """The example connector file with its write options changed."""
    path = home / "connectors" / "stockroom.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    [endpoint] = document["endpoints"]
    endpoint["write"]["options"].update(options)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def test_put_sends_the_whole_record_as_it_will_be(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, _, _, shop = rooms
    connector_with(home, update_method="PUT")
    current = shop.add_product(sku="A-1", name="Anvil", price=10, stock=1, attributes={"size": "L"})
    with open_instance("shop") as platform:
        [result] = platform.upsert("products", [{"sku": "A-1", "stock": 2}])
    assert (result.outcome, result.id) == ("updated", current["id"])
    assert result.changes == (Change("stock", 1, 2),)
    [(method, _, body)] = shop.bodies
    assert method == "PUT"
    assert body == {
        "product": {
            "sku": "A-1",
            "name": "Anvil",
            "price": "10.00",
            "stock": 2,
            "attributes": {"size": "L"},
        }
    }


def test_keys_that_match_several_records_or_none_fail_alone(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    _, _, _, shop = rooms
    shop.add_product(sku="TWICE", name="One")
    shop.add_product(sku="TWICE", name="Two")
    with open_instance("shop") as platform:
        results = list(
            platform.upsert(
                "products",
                [{"sku": "TWICE", "name": "x"}, {"name": "no sku"}, {"sku": "NEW", "name": "New"}],
            )
        )
    assert [(r.outcome, r.code) for r in results] == [
        ("failed", "AMBIGUOUS_KEY"),
        ("failed", "NO_KEY"),
        ("created", None),
    ]
    assert shop.count("POST", "/v1/products") == 1


def test_records_sharing_a_key_are_written_in_order_each_after_the_last(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    _, _, _, shop = rooms
    records = [
        {"sku": "S-1", "name": "First", "stock": 1},
        {"sku": "S-1", "name": "First", "stock": 2},
        {"sku": "S-1", "name": "First", "stock": 2},
    ]
    with open_instance("shop") as platform:
        results = list(platform.upsert("products", records))
    assert [r.outcome for r in results] == ["created", "updated", "unchanged"]
    assert [p["stock"] for p in shop.products.values()] == [2]
    assert (shop.count("POST", "/v1"), shop.count("PATCH", "/v1")) == (1, 1)


def test_a_create_refused_as_taken_updates_the_record_that_took_the_key(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    _, _, _, shop = rooms
    taken = shop.add_product(sku="RACE", name="Theirs", stock=1)
    shop.unseen["RACE"] = 1  # created by someone else just after our lookup
    with open_instance("shop") as platform:
        [result] = platform.upsert("products", [{"sku": "RACE", "name": "Theirs", "stock": 5}])
    assert (result.outcome, result.id) == ("updated", taken["id"])
    assert [(m, p) for m, p, _ in shop.bodies] == [
        ("POST", "/v1/products"),  # 409: taken
        ("PATCH", f"/v1/products/{taken['id']}"),
    ]
    assert shop.bodies[-1][2] == {"product": {"stock": 5}}


def test_a_create_whose_answer_never_came_is_tried_again_within_the_run(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    """The create lands, the connection drops before the answer: a failure with no HTTP status,
    which another try may mend (the record was there), unlike a record the API refused."""
    home, flow, _, shop = rooms
    shop.unanswered["X-1"] = 1
    with open_instance("shop") as platform:
        [result] = platform.upsert("products", [{"sku": "X-1", "name": "Unanswered"}])
    assert (result.outcome, result.code, result.error_class) == ("failed", None, "transient")
    assert result.retryable
    assert "RemoteProtocolError" in (result.message or "")

    shop.unanswered["SKU-003"] = 1
    shop.requests.clear()
    done = run_flow(home, flow)
    assert (done["failed"], done["created"], done["unchanged"]) == (0, PRODUCTS - 1, 1)
    assert shop.count("POST", "/v1/products") == PRODUCTS  # the landed create is not repeated
    assert len(shop.products) == PRODUCTS + 1


def test_a_lookup_repeats_the_parameter_when_the_api_takes_no_lists(
    rooms: tuple[Path, str, Stockroom, Stockroom],
) -> None:
    home, _, _, shop = rooms
    connector_with(home, lookup_separator=None, lookup_values=2)
    with open_instance("shop") as platform:
        results = list(platform.upsert("products", catalogue(3)))
    assert [r.outcome for r in results] == ["created"] * 3
    lookups = [q["sku"] for m, p, q in shop.queries if (m, p) == ("GET", "/v1/products")]
    # The lookups go out concurrently, so they may arrive in either order.
    assert sorted(lookups) == [["SKU-001", "SKU-002"], ["SKU-003"]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"update_methd": "PUT"}, "the rest writer has no option 'update_methd' (known: "),
        (
            {"update_method": "POST"},
            "endpoint 'products': write.options.update_method: expected one of PATCH, PUT, "
            "got 'POST'",
        ),
        ({"item_path": "{path}/{sku}"}, "write.options.item_path: '{path}/{sku}' names ['sku']"),
        ({"lookup_values": 0}, "write.options.lookup_values: expected a whole number of at least"),
    ],
)
def test_an_unknown_or_wrong_option_is_refused_naming_it(
    rooms: tuple[Path, str, Stockroom, Stockroom], options: dict[str, Any], message: str
) -> None:
    home, _, _, _ = rooms
    connector_with(home, **options)
    with open_instance("shop") as platform, pytest.raises(ValueError, match=re.escape(message)):
        platform.writer("products")
