"""What a dry run keeps and shows of an update never holds the values of a field named like a
secret, as a kept record never does (`cartwire.store.payloads`): its changes are listed by
field name, so dropping secret-named keys of the stored object alone does not catch them."""

from cartwire.flows.preview import planned
from cartwire.resources.writer import Change, WriteResult


def test_a_planned_update_leaves_out_secret_named_fields() -> None:
    result = WriteResult(
        "SKU-1",
        "updated",
        changes=(
            Change("name", "Old", "New"),
            Change("custom.fields.apiToken", "tok-old", "tok-new"),
            Change("client_secret", "s-old", "s-new"),
            Change("setAttribute sku=A-1 name=color", None, {"value": "red"}),
        ),
    )
    write = planned("skus", result)
    assert write is not None
    assert [c["field"] for c in write.changes] == ["name", "setAttribute sku=A-1 name=color"]
