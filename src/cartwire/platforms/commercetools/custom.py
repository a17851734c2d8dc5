"""Custom fields (`custom: {type, fields}`): merged field by field, or replaced whole.

commercetools has two ways to write them: `setCustomType` sets the type and *all* fields (a
field it does not name is gone), `setCustomField` sets or removes one. So by default a record's
custom fields are merged into the resource's: one `setCustomField` per field that differs, the
others left as they are, and another flow's fields survive. Only when the resource has no custom
type yet, or the record names another type, is `setCustomType` sent (fields of one type do not
carry over to another). With `replace` (a flow's `replace: true` on `custom`), the fields are
compared as a whole and a difference sends `setCustomType` with exactly the record's fields.

The diff runs on the resource as last read, and the update carries its `version`: a field
someone else sets in between makes the update fail with 409, and the writer re-reads and diffs
again (`CtWriter._apply`), so a concurrent change is merged too, never overwritten.

A field given as null is removed; a record without `custom.type` may still set fields of a
resource that has a custom type.
"""

from collections.abc import Mapping
from typing import Any

from cartwire.platforms.commercetools.base import DraftError
from cartwire.platforms.commercetools.compare import Action, Json, same, same_reference


def custom_actions(current: Json, desired: Json, *, replace: bool) -> list[Action]:
    """The actions that make the resource's custom fields what `desired["custom"]` says."""
    if "custom" not in desired:
        return []
    wanted = desired["custom"]
    have = current.get("custom")
    if wanted is None:
        return [{"action": "setCustomType"}] if have else []
    if not isinstance(wanted, Mapping) or not isinstance(wanted.get("fields") or {}, Mapping):
        raise DraftError("custom must be {type: {typeId: type, key: …}, fields: {name: value}}")
    fields: Mapping[str, Any] = wanted.get("fields") or {}
    type_ = wanted.get("type")
    if not have or (type_ is not None and not same_reference(type_, have.get("type"))):
        if type_ is None:
            raise DraftError(
                "custom.fields need custom.type (e.g. {typeId: type, key: my-type}): "
                "the resource has no custom type yet"
            )
        return [_set_type(type_, fields)]
    present: Mapping[str, Any] = have.get("fields") or {}
    if replace:
        names = set(fields) | set(present)
        if all(same(fields.get(n), present.get(n)) for n in names):
            return []
        return [_set_type(have["type"], fields)]
    return [
        {"action": "setCustomField", "name": name, **({} if value is None else {"value": value})}
        for name, value in fields.items()
        if not same(value, present.get(name))
    ]


def _set_type(type_: Any, fields: Mapping[str, Any]) -> Action:
    given = {name: value for name, value in fields.items() if value is not None}
    return {"action": "setCustomType", "type": type_, "fields": given}
