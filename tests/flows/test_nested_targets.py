"""Nested targets written by more than one flow merge into the destination's object, run after
run, and a second run of each writes nothing; `replace: true` replaces the object instead, and
is refused where it cannot mean anything."""

import json
from textwrap import dedent
from typing import Any

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.flows import MemoryLookups, process, validate
from cartwire.flows.results import RecordError
from tests.flows.support import REGISTRY, as_text, flow, minimal
from tests.flows.world import World
from tests.support import run_cli

Json = dict[str, Any]


def map_problems(fields: Json) -> list[str]:
    text = as_text(minimal(steps=[{"map": {"fields": {"code": "key", **fields}}}]))
    return [str(p) for p in validate(text, registry=REGISTRY)]


def test_replace_is_refused_where_it_cannot_mean_anything() -> None:
    assert map_problems({"metadata.a": {"from": "x", "replace": True}, "metadata.b": "y"}) == [
        'steps[0].map.fields["metadata.a"].replace: replace: true is on "metadata.a" but not on'
        ' every target under "metadata" (metadata.a, metadata.b): they make one object, give it'
        " on all or none"
    ]
    assert map_problems({"metadata": {"template": "[[x]]", "replace": True}}) == [
        'steps[0].map.fields.metadata.replace: replace: true replaces an object, and "metadata"'
        " cannot hold one: a template makes a string (to replace an object, map it whole, or"
        ' give replace on its fields: "metadata.a")'
    ]
    assert map_problems({"name": {"from": "x", "transform": ["upper"], "replace": True}}) == [
        'steps[0].map.fields.name.replace: replace: true replaces an object, and "name" cannot'
        " hold one: its last transform, upper, never makes one (to replace an object, map it"
        ' whole, or give replace on its fields: "name.a")'
    ]
    each = {"from": "items", "each": {"fields": {"a": {"from": "b", "replace": True}}}}
    assert map_problems({"lines": each}) == [
        "steps[0].map.fields.lines.each.fields.a.replace: replace: true has no effect inside"
        " each: a list is always written whole"
    ]
    fine = {
        "metadata.a": {"from": "x", "replace": True},
        "metadata.b": {"from": "y", "replace": True},
    }
    assert map_problems(fine) == []
    assert map_problems({"metadata": {"from": "custom.fields", "replace": True}}) == []


REPLACING = """
    name: replacing
    source: {connector: commercetools, endpoint: products}
    steps:
      - map:
          fields:
            code: key
            metadata: {from: extra, replace: true}
            reference: id
    destination: {connector: commercelayer, endpoint: skus}
"""


def test_the_runner_names_the_replaced_objects_and_a_non_object_fails_the_record() -> None:
    loaded = flow(REPLACING)
    assert loaded.replaced(loaded.outputs[0]) == frozenset({"metadata"})
    assert flow(REPLACING.replace(", replace: true", "")).replaced(loaded.outputs[0]) == set()

    [ok] = process(loaded, {"key": "A", "extra": {"a": 1}, "id": "1"}, MemoryLookups())["skus"]
    assert not isinstance(ok, RecordError)
    [bad] = process(loaded, {"key": "B", "extra": "text", "id": "2"}, MemoryLookups())["skus"]
    assert isinstance(bad, RecordError)
    assert str(bad) == (
        "field metadata, value 'text': replace: true needs an object to replace with, got str"
        " (at steps[0].map.fields.metadata.replace)"
    )


# -- on the sandboxes ------------------------------------------------------------------------

SEGMENTS = """
    # A user's flow next to the prebuilt ct-customers-to-cl-customers: the same customers, one
    # more key in their metadata.
    name: ct-customer-segments
    source: {connector: commercetools, endpoint: customers}
    steps:
      - filter: {field: email, op: exists}
      - map:
          fields:
            email: {from: email, transform: [trim, lower]}
            metadata.segment: {value: vip}
    destination: {connector: commercelayer, endpoint: customers}
"""

CUSTOM_FIELDS = """
    # Commerce Layer customers → commercetools customers, one custom field of {field}.
    name: cl-customer-{field}
    source: {{connector: commercelayer, endpoint: customers}}
    steps:
      - filter: {{field: email, op: exists}}
      - map:
          fields:
            email: {{from: email, transform: [trim, lower]}}
            authenticationMode: {{value: ExternalAuth}}
            custom.type: {{value: {{typeId: type, key: cw-customer}}}}
            custom.fields.{field}: {{value: {value}}}
    destination: {{connector: commercetools, endpoint: customers}}
"""


def run(world: World, flow_ref: str, source: str, destination: str, *args: str) -> Json:
    done = run_cli(
        world.home,
        *("flows", "run", flow_ref, "--source", source, "--destination", destination, "--json"),
        *args,
    )
    assert done.returncode == 0, done.stderr
    result: Json = json.loads(done.stdout)
    assert (result["status"], result["failed"]) == ("succeeded", 0), result
    return result


def user_flow(world: World, name: str, text: str) -> str:
    path = world.home / f"{name}.yaml"
    path.write_text(dedent(text).lstrip())
    return str(path)


def cl_metadata(world: World) -> dict[str, Json]:
    return {
        c["attributes"]["email"]: c["attributes"]["metadata"] for c in world.cl_all("customers")
    }


def test_a_user_flow_and_the_prebuilt_flow_keep_each_others_metadata(world: World) -> None:
    segments = user_flow(world, "segments", SEGMENTS)
    run(world, "ct-customers-to-cl-customers", CT_INSTANCE, CL_INSTANCE)
    run(world, segments, CT_INSTANCE, CL_INSTANCE)
    again = run(world, "ct-customers-to-cl-customers", CT_INSTANCE, CL_INSTANCE, "--full")
    assert again["updated"] == 0  # the prebuilt flow no longer wipes the segment
    expected = {
        c.email: {"first_name": c.first_name, "last_name": c.last_name, "segment": "vip"}
        for c in world.catalogue.customers()
    }
    assert {e: m for e, m in cl_metadata(world).items() if e in expected} == expected

    world.reset_counters()
    for flow_ref in (segments, "ct-customers-to-cl-customers", segments):
        result = run(world, flow_ref, CT_INSTANCE, CL_INSTANCE, "--full")
        assert (result["created"], result["updated"]) == (0, 0)
        assert result["unchanged"] == len(expected)
    assert world.writes(world.cl) == 0
    assert {e: m for e, m in cl_metadata(world).items() if e in expected} == expected


def test_replace_true_replaces_the_object(world: World) -> None:
    run(world, "ct-customers-to-cl-customers", CT_INSTANCE, CL_INSTANCE)
    replacing = SEGMENTS.replace("{value: vip}", "{value: vip, replace: true}")
    segments = user_flow(world, "segments", replacing)
    emails = {c.email for c in world.catalogue.customers()}
    first = run(world, segments, CT_INSTANCE, CL_INSTANCE)
    assert first["updated"] == len(emails)
    assert all(m == {"segment": "vip"} for e, m in cl_metadata(world).items() if e in emails)

    world.reset_counters()
    again = run(world, segments, CT_INSTANCE, CL_INSTANCE)
    assert again["updated"] == 0
    assert world.writes(world.cl) == 0


def test_two_flows_keep_each_others_commercetools_custom_fields(world: World) -> None:
    with world.ct_client() as ct:
        ct.post(
            "types",
            json={
                "key": "cw-customer",
                "name": {"en": "cartwire customer fields"},
                "resourceTypeIds": ["customer"],
                "fieldDefinitions": [
                    {"name": n, "label": {"en": n}, "required": False, "type": {"name": "String"}}
                    for n in ("segment", "source")
                ],
            },
        ).raise_for_status()
    segment = user_flow(world, "segment", CUSTOM_FIELDS.format(field="segment", value="vip"))
    source = user_flow(world, "source", CUSTOM_FIELDS.format(field="source", value="cl"))
    run(world, segment, CL_INSTANCE, CT_INSTANCE)
    run(world, source, CL_INSTANCE, CT_INSTANCE)
    emails = {c["attributes"]["email"] for c in world.cl_all("customers")}
    assert emails

    def custom_fields() -> dict[str, Json | None]:
        with world.ct_client() as ct:
            found = ct.get("customers", params={"limit": 500}).json()["results"]
        return {c["email"]: (c.get("custom") or {}).get("fields") for c in found}

    fields = custom_fields()
    assert all(fields[e] == {"segment": "vip", "source": "cl"} for e in emails)

    world.reset_counters()
    for flow_ref in (segment, source, segment):
        result = run(world, flow_ref, CL_INSTANCE, CT_INSTANCE, "--full")
        assert (result["created"], result["updated"]) == (0, 0)
    assert world.writes(world.ct) == 0
    assert custom_fields() == fields


PRODUCT_NAMES = """
    # Rewrites the English name of commercetools products; the German one is another's.
    name: ct-product-names
    source: {connector: commercetools, endpoint: products}
    steps:
      - map:
          fields:
            key: key
            name.en: {from: masterData.staged.name.en, transform: [upper]}
    destination: {connector: commercetools, endpoint: products}
"""


def ct_names(world: World) -> dict[str, Json]:
    with world.ct_client() as ct:
        found = ct.get("products", params={"limit": 500}).json()["results"]
    return {p["key"]: p["masterData"]["staged"]["name"] for p in found}


def test_a_flow_writing_one_locale_keeps_the_others(world: World) -> None:
    before = ct_names(world)
    assert before
    assert all(set(name) == {"en", "de"} for name in before.values())
    names = user_flow(world, "names", PRODUCT_NAMES)
    first = run(world, names, CT_INSTANCE, CT_INSTANCE)
    assert first["updated"] == len(before)
    expected = {key: {"en": n["en"].upper(), "de": n["de"]} for key, n in before.items()}
    assert ct_names(world) == expected

    world.reset_counters()
    again = run(world, names, CT_INSTANCE, CT_INSTANCE, "--full")
    assert (again["updated"], again["unchanged"]) == (0, len(before))
    assert world.writes(world.ct) == 0

    replacing = PRODUCT_NAMES.replace("[upper]}", "[upper], replace: true}")
    replaced = run(world, user_flow(world, "names", replacing), CT_INSTANCE, CT_INSTANCE, "--full")
    assert replaced["updated"] == len(before)
    assert ct_names(world) == {key: {"en": n["en"]} for key, n in expected.items()}
