"""Objects such as `metadata` written by more than one writer: each one's keys merge into what
the record has (by PATCH and through the Imports API), a merge that changes nothing writes
nothing, and `replace` sends the object as given."""

import json
from typing import Any

from cartwire.resources import Platform
from tests.platforms.cl_support import Admin, sku, watched

Json = dict[str, Any]


def customer(n: int, **attributes: Any) -> Json:
    return {"email": f"customer-{n:04d}@example.com", **attributes}


def metadata(platform: Platform, endpoint: str) -> dict[str, Json]:
    key = "email" if endpoint == "customers" else "code"
    return {r[key]: r["metadata"] for r in platform.read(endpoint)}


def test_two_writers_keep_each_others_metadata_keys(platform: Platform, admin: Admin) -> None:
    names = [customer(n, metadata={"first_name": f"F{n}", "last_name": f"L{n}"}) for n in range(3)]
    segments = [customer(n, metadata={"segment": "gold"}) for n in range(3)]
    assert {r.outcome for r in platform.upsert("customers", names)} == {"created"}

    with watched(platform) as sent:
        assert {r.outcome for r in platform.upsert("customers", segments)} == {"updated"}
    patch = next(r for r in sent if r.method == "PATCH")
    attributes = json.loads(patch.content)["data"]["attributes"]
    # The whole object as it will be: a PATCH stores the metadata it is given.
    assert attributes == {"metadata": {"first_name": "F0", "last_name": "L0", "segment": "gold"}}
    both = {"first_name": "F1", "last_name": "L1", "segment": "gold"}
    assert metadata(platform, "customers")["customer-0001@example.com"] == both

    admin.clear_counters()
    for records in (names, segments, names):  # every run of either: nothing to write
        assert {r.outcome for r in platform.upsert("customers", records)} == {"unchanged"}
    assert admin.writes() == 0
    assert metadata(platform, "customers")["customer-0001@example.com"] == both


def test_nested_objects_merge_and_a_changed_key_is_updated(platform: Platform) -> None:
    first = customer(1, metadata={"crm": {"id": "C-1", "tier": "basic"}, "tags": ["a", "b"]})
    list(platform.upsert("customers", [first]))
    (result,) = platform.upsert(
        "customers", [customer(1, metadata={"crm": {"tier": "pro"}, "tags": ["c"]})]
    )
    assert result.outcome == "updated"
    # Objects merge at every depth; a list is a value, written whole.
    assert metadata(platform, "customers")["customer-0001@example.com"] == {
        "crm": {"id": "C-1", "tier": "pro"},
        "tags": ["c"],
    }


def test_replace_sends_the_object_as_given(platform: Platform, admin: Admin) -> None:
    list(platform.upsert("customers", [customer(1, metadata={"first_name": "F", "old": 1})]))
    replaced = [customer(1, metadata={"segment": "gold"})]
    (result,) = platform.upsert("customers", replaced, replace=frozenset({"metadata"}))
    assert result.outcome == "updated"
    assert metadata(platform, "customers")["customer-0001@example.com"] == {"segment": "gold"}

    admin.clear_counters()
    (again,) = platform.upsert("customers", replaced, replace=frozenset({"metadata"}))
    assert again.outcome == "unchanged"
    # Merging the same keys into it changes nothing either.
    (merged,) = platform.upsert("customers", replaced)
    assert merged.outcome == "unchanged"
    assert admin.writes() == 0


def test_records_of_one_key_in_a_batch_merge_in_turn(platform: Platform) -> None:
    records = [customer(1, metadata={"a": 1}), customer(1, metadata={"b": 2})]
    assert [r.outcome for r in platform.upsert("customers", records)] == ["created", "updated"]
    assert metadata(platform, "customers")["customer-0001@example.com"] == {"a": 1, "b": 2}


def test_imports_merge_metadata_too(platform: Platform, admin: Admin) -> None:
    count = 130  # more than bulk_threshold: one import
    admin.load("skus", [sku(n, metadata={"origin": "pim"}) for n in range(count)])
    records = [
        {"code": f"SKU-{n:05d}", "metadata": {"segment": "gold" if n % 2 else "silver"}}
        for n in range(count)
    ]
    results = list(platform.upsert("skus", records))
    assert {r.outcome for r in results} == {"updated"}
    assert admin.requests("POST", "imports") == 1
    assert admin.requests("PATCH", f"skus/{results[0].id}") == 0
    found = metadata(platform, "skus")
    assert found["SKU-00001"] == {"origin": "pim", "segment": "gold"}
    assert found["SKU-00002"] == {"origin": "pim", "segment": "silver"}

    admin.clear_counters()
    assert {r.outcome for r in platform.upsert("skus", records)} == {"unchanged"}
    assert admin.writes() == 0
