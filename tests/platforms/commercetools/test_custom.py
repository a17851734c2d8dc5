"""Custom fields written by more than one writer: each one's fields merge into the resource's
(`setCustomField` per difference, with the version check), a concurrent change between our read
and our write survives, a merge that changes nothing writes nothing, and `replace` sets exactly
the fields given (`setCustomType`)."""

import threading
from typing import Any

import pytest

from cartwire.resources import Platform, WriteResult
from cartwire.resources.writer import Change
from tests.platforms.ct_support import Admin, category, customer

Json = dict[str, Any]
TYPE = {"typeId": "type", "key": "cw-fields"}


@pytest.fixture(autouse=True)
def custom_type(platform: Platform) -> None:
    """A custom type for customers and categories with three text fields."""
    platform.api.request(
        "POST",
        "types",
        json={
            "key": TYPE["key"],
            "name": {"en": "cartwire test fields"},
            "resourceTypeIds": ["customer", "category"],
            "fieldDefinitions": [
                {"name": name, "label": {"en": name}, "required": False, "type": {"name": "String"}}
                for name in ("segment", "source", "tier")
            ],
        },
    )


def upsert(platform: Platform, endpoint: str, records: list[Json], **kw: Any) -> list[WriteResult]:
    return list(platform.upsert(endpoint, records, **kw))


def fields(platform: Platform, path: str) -> Json:
    found: Json = platform.api.request("GET", path).json()["custom"]["fields"]
    return found


def test_two_writers_keep_each_others_custom_fields(platform: Platform, admin: Admin) -> None:
    segments = [
        customer(0, password="x", custom={"type": TYPE, "fields": {"segment": "gold"}}),
        customer(1, password="x", custom={"type": TYPE, "fields": {"segment": "silver"}}),
    ]
    sources = [
        customer(0, custom={"type": TYPE, "fields": {"source": "crm"}}),
        customer(1, custom={"fields": {"source": "shop"}}),  # the type may be left out
    ]
    created = upsert(platform, "customers", segments)
    assert [r.outcome for r in created] == ["created", "created"]

    updated = upsert(platform, "customers", sources)
    assert [r.outcome for r in updated] == ["updated", "updated"]
    assert fields(platform, f"customers/{created[0].id}") == {"segment": "gold", "source": "crm"}
    assert fields(platform, f"customers/{created[1].id}") == {"segment": "silver", "source": "shop"}

    admin.clear_counters()
    for records in (segments, sources, segments):  # every run of either: nothing to write
        assert {r.outcome for r in upsert(platform, "customers", records)} == {"unchanged"}
    assert admin.writes() == 0


def test_a_field_given_as_null_is_removed(platform: Platform) -> None:
    both = {"segment": "gold", "source": "crm"}
    (created,) = upsert(platform, "customers", [customer(1, custom={"type": TYPE, "fields": both})])
    (result,) = upsert(platform, "customers", [customer(1, custom={"fields": {"source": None}})])
    assert result.outcome == "updated"
    assert fields(platform, f"customers/{created.id}") == {"segment": "gold"}


def test_replace_sets_exactly_the_fields_given(platform: Platform, admin: Admin) -> None:
    both = {"segment": "gold", "source": "crm"}
    (created,) = upsert(platform, "customers", [customer(1, custom={"type": TYPE, "fields": both})])
    only = [customer(1, custom={"type": TYPE, "fields": {"tier": "A"}})]
    (result,) = upsert(platform, "customers", only, replace=frozenset({"custom"}))
    assert result.outcome == "updated"
    assert fields(platform, f"customers/{created.id}") == {"tier": "A"}

    admin.clear_counters()
    (again,) = upsert(platform, "customers", only, replace=frozenset({"custom"}))
    assert again.outcome == "unchanged"
    assert admin.writes() == 0


def test_fields_without_a_type_on_a_resource_without_one_fail_clearly(platform: Platform) -> None:
    upsert(platform, "customers", [customer(1, password="x")])
    (result,) = upsert(platform, "customers", [customer(1, custom={"fields": {"tier": "A"}})])
    assert (result.outcome, result.code) == ("failed", "InvalidDraft")
    assert "custom.fields need custom.type" in (result.message or "")


def test_categories_merge_custom_fields_too(platform: Platform, admin: Admin) -> None:
    first = {**category("shirts"), "custom": {"type": TYPE, "fields": {"segment": "gold"}}}
    (created,) = upsert(platform, "categories", [first])
    second = {**category("shirts"), "custom": {"type": TYPE, "fields": {"source": "pim"}}}
    assert [r.outcome for r in upsert(platform, "categories", [second])] == ["updated"]
    assert fields(platform, f"categories/{created.id}") == {"segment": "gold", "source": "pim"}
    admin.clear_counters()
    assert [r.outcome for r in upsert(platform, "categories", [first, second])] == [
        "unchanged",
        "unchanged",
    ]
    assert admin.writes() == 0


def test_a_concurrent_change_between_read_and_write_survives(
    platform: Platform, admin: Admin
) -> None:
    mine = {"type": TYPE, "fields": {"segment": "gold"}}
    (created,) = upsert(platform, "customers", [customer(1, password="x", custom=mine)])
    path = f"customers/{created.id}"
    # Hold our update at the server, set another field meanwhile, then let ours go on.
    admin.fault(method="POST", path=f"/{path}$", count=1, hold=True)
    results: list[WriteResult] = []
    ours = threading.Thread(
        target=lambda: results.extend(
            upsert(platform, "customers", [customer(1, custom={"fields": {"source": "crm"}})])
        )
    )
    ours.start()
    held = admin.held()
    theirs = {
        "version": created.record["version"] if created.record else 1,
        "actions": [{"action": "setCustomField", "name": "tier", "value": "A"}],
    }
    platform.api.request("POST", path, json=theirs)
    admin.release(held)
    ours.join()
    (result,) = results
    assert result.outcome == "updated"
    assert platform.api.stats.statuses[409] == 1  # ours met their change, re-read, merged again
    assert fields(platform, path) == {"segment": "gold", "source": "crm", "tier": "A"}


def test_a_dry_run_tells_each_custom_field_it_would_set(platform: Platform, admin: Admin) -> None:
    gold = customer(1, password="x", custom={"type": TYPE, "fields": {"segment": "gold"}})
    upsert(platform, "customers", [gold])
    admin.clear_counters()
    changed = customer(1, custom={"fields": {"segment": "silver", "tier": "A"}})
    (planned,) = upsert(platform, "customers", [changed], dry_run=True)
    assert planned.changes == (
        Change("custom.fields.segment", "gold", "silver"),
        Change("custom.fields.tier", None, "A"),
    )
    assert admin.writes() == 0
