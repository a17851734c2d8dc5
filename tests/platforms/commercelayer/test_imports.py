"""Bulk Commerce Layer upserts through the Imports API: only what changed goes in, per-input
errors from errors_log come back as failed results, interrupted or timed-out imports are read
back rather than trusted, and a second run makes no write."""

from typing import Any

from cartwire.connectors import get_connector
from cartwire.platforms.commercelayer.writer import CommerceLayerWriter
from cartwire.resources import Platform
from tests.platforms.cl_support import EUR, Admin, skus

Json = dict[str, Any]


def writer(platform: Platform, name: str, **options: Any) -> CommerceLayerWriter:
    """The endpoint's writer with some write options changed."""
    spec = get_connector("commercelayer").endpoint(name)
    assert spec.write is not None
    write = spec.write.model_copy(update={"options": {**spec.write.options, **options}})
    return CommerceLayerWriter(platform.api, spec.model_copy(update={"write": write}))


def category(records: list[Json]) -> list[Json]:
    return [{**r, "shipping_category": {"code": "merchandise"}} for r in records]


def tally(results: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return counts


def test_many_changes_go_through_one_import(platform: Platform, admin: Admin) -> None:
    records = category([{"code": f"IMP-{n:04d}", "name": f"Imported {n}"} for n in range(150)])
    records[10].pop("name")
    records[20]["unit_of_weight"] = "stone"
    results = list(platform.upsert("skus", records))
    assert tally(results) == {"created": 148, "failed": 2}
    assert (results[10].code, results[10].message) == ("IMPORT_ERROR", "name can't be blank")
    assert (results[20].code, results[20].message) == (
        "IMPORT_ERROR",
        "unit_of_weight is not included in the list",
    )
    assert admin.requests("POST", "imports") == 1
    assert admin.requests("POST", "skus") == 0
    read = {r["code"]: r["name"] for r in platform.read("skus")}
    assert len(read) == 148
    assert read["IMP-0149"] == "Imported 149"

    admin.clear_counters()
    again = list(platform.upsert("skus", records))
    assert tally(again) == {"unchanged": 148, "failed": 2}
    assert admin.requests("POST", "imports") == 0
    assert admin.writes() == 2  # the two bad records, now too few for an import


def test_updates_carry_ids_and_only_what_changed(platform: Platform, admin: Admin) -> None:
    skus(admin, 130)
    prices: list[Json] = [
        {"sku_code": f"SKU-{n:05d}", "price_list": {"code": "eur"}, "amount_cents": 100 + n}
        for n in range(130)
    ]
    assert tally(platform.upsert("prices", prices)) == {"created": 130}
    for price in prices[:120]:
        price["amount_cents"] += 1
    admin.clear_counters()
    results = list(platform.upsert("prices", prices))
    assert tally(results) == {"updated": 120, "unchanged": 10}
    assert all(r.id for r in results)
    assert admin.requests("POST", "imports") == 1
    imports = sorted(platform.read("imports"), key=lambda i: str(i["created_at"]))
    assert [i["inputs_size"] for i in imports] == [130, 120]
    assert imports[-1]["parent_resource_id"] == EUR
    amounts = {p["sku_code"]: p["amount_cents"] for p in platform.read("prices")}
    assert amounts["SKU-00000"] == 101
    assert amounts["SKU-00125"] == 225


def test_many_imports_at_once(platform: Platform, admin: Admin) -> None:
    records = category([{"code": f"IMP-{n:04d}", "name": "x"} for n in range(250)])
    results = list(writer(platform, "skus", import_size=60).upsert(records))
    assert tally(results) == {"created": 250}
    assert admin.requests("POST", "imports") == 5
    assert len(list(platform.read("skus"))) == 250


def test_an_interrupted_import_is_read_back(platform: Platform, admin: Admin) -> None:
    # 40 bad inputs in the sandbox's first chunk of 250: above 10 % of 300, so it stops there
    records = category([{"code": f"IMP-{n:04d}", "name": "ok"} for n in range(300)])
    for record in records[:40]:
        record["name"] = ""
    results = list(writer(platform, "skus", skip_errors=False).upsert(records))
    assert tally(results) == {"failed": 90, "created": 210}
    assert {r.code for r in results[:40]} == {"IMPORT_ERROR"}
    assert {r.code for r in results[250:]} == {"IMPORT_NOT_APPLIED"}
    assert all(r.id for r in results[40:250])  # read back, so their ids are known
    assert len(list(platform.read("skus"))) == 210


def test_a_timed_out_import_reports_what_is_there(platform: Platform, admin: Admin) -> None:
    records = category([{"code": f"IMP-{n:04d}", "name": "x"} for n in range(120)])
    results = list(writer(platform, "skus", import_timeout_seconds=0).upsert(records))
    there = {r["code"] for r in platform.read("skus")}
    assert {r.key for r in results if r.outcome == "created"} == there
    assert {r.code for r in results if r.outcome == "failed"} <= {"IMPORT_NOT_APPLIED"}
