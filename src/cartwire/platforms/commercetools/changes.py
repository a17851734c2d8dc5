"""What a commercetools update changes, field by field, told from the update actions its diff
chose (so a dry run shows what a run would send, with no second comparison).

An action made by a `Setter` sets one field: its change is that field, the value the resource
has and the value the action sets; so does `setCustomField` (`custom.fields.NAME`, merged
custom fields: `custom`). Any other action (a variant added, an attribute set on one
variant, an address moved) is told as itself: the action with what identifies its target
(`setAttribute sku=A-1 name=color`) as the field, nothing as the old value, and the rest of the
action as the new one.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from cartwire.platforms.commercetools.compare import Action, Json, Setter
from cartwire.resources.writer import Change

# Action fields that say which part of the resource an action works on.
TARGETS = ("sku", "name", "imageUrl", "priceId", "addressId", "addressKey")

# The setters of a writer with the record each reads its field from (a product's staged data,
# say), by the name of the action they make.
Scoped = Mapping[str, tuple[Json, Setter]]


def scoped(*groups: tuple[Json, Iterable[Setter]]) -> dict[str, tuple[Json, Setter]]:
    return {setter.action: (scope, setter) for scope, setters in groups for setter in setters}


def changes(actions: Iterable[Action], setters: Scoped, current: Json) -> tuple[Change, ...]:
    return tuple(_change(action, setters, current) for action in actions)


def _change(action: Action, setters: Scoped, current: Json) -> Change:
    name = action["action"]
    if name == "setCustomField":
        fields = (current.get("custom") or {}).get("fields") or {}
        field = action["name"]
        return Change(f"custom.fields.{field}", fields.get(field), action.get("value"))
    if name in setters:
        scope, setter = setters[name]
        return Change(
            setter.field, scope.get(setter.field), action.get(setter.param or setter.field)
        )
    target = [f"{field}={action[field]}" for field in TARGETS if field in action]
    rest: dict[str, Any] = {k: v for k, v in action.items() if k != "action" and k not in TARGETS}
    return Change(" ".join([name, *target]), None, rest or None)
