"""Comparing a desired commercetools record with the current resource, field by field.

A desired record is a draft (the shape commercetools takes on create). Fields it leaves out are
left alone on the platform; a field given as null is unset; a list given is the whole list; an
object (a localized string, an address) is merged into the one the resource has, and the update
action, which replaces the object, carries the merged whole (`cartwire.resources.nested`; a
field in the writer's `replace` is sent as given). References and money are single values. The
platform answers with more than a draft holds (money `type` and `fractionDigits`, enum labels,
`{typeId, id}` references where the draft had keys), so "equal" here means "equal as far as
the draft says": the comparison that makes an unchanged record produce no update action.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cartwire.resources.nested import written

Json = dict[str, Any]
Action = dict[str, Any]


def is_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and "typeId" in value and ("id" in value or "key" in value)


def same_reference(desired: Mapping[str, Any], current: Any) -> bool:
    """By id when the desired one has an id (resolved from its key), else by key (a
    KeyReference such as a customer's store)."""
    if not isinstance(current, Mapping) or current.get("typeId") != desired.get("typeId"):
        return False
    if desired.get("id") is not None:
        return bool(current.get("id") == desired["id"])
    return current.get("key") is not None and current.get("key") == desired.get("key")


def _is_money(value: Any) -> bool:
    return isinstance(value, Mapping) and "currencyCode" in value and "centAmount" in value


def is_value(value: Any) -> bool:
    """An object the platform takes as one value (a reference, money): replaced, never merged."""
    return is_reference(value) or _is_money(value)


def same(desired: Any, current: Any) -> bool:
    """Whether the platform's `current` value already is what the draft's `desired` says."""
    if desired is None:
        return current is None or current == [] or current == {}
    if is_reference(desired):
        return same_reference(desired, current)
    if _is_money(desired):
        return (
            _is_money(current)
            and desired["currencyCode"] == current["currencyCode"]
            and desired["centAmount"] == current["centAmount"]
        )
    if isinstance(desired, str) and isinstance(current, Mapping) and "key" in current:
        return bool(desired == current["key"])  # an enum attribute given by its key
    if isinstance(desired, Mapping):
        if not isinstance(current, Mapping):
            return False
        keys = {k for k, v in desired.items() if v is not None}
        if is_localized(desired):  # whole: {"en": …} is not {"en": …, "de": …}
            keys |= {k for k, v in current.items() if v is not None}
        return all(same(desired.get(k), current.get(k)) for k in keys)
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(desired) == len(current)
            and all(same(d, c) for d, c in zip(desired, current, strict=True))
        )
    return bool(desired == current)


def same_whole(desired: Mapping[str, Any], current: Any) -> bool:
    """The whole object (an address, an object a write replaces): a key the draft leaves out is
    one `current` must not have, but for the `id` the platform gives it."""
    if not isinstance(current, Mapping):
        return False
    keys = (set(desired) | set(current)) - {"id"}
    return all(same(desired.get(k), current.get(k)) for k in keys)


def is_localized(value: Mapping[str, Any]) -> bool:
    """A LocalizedString: every key an IETF language tag (`en`, `de`, `en-US`, `zh-Hant-TW`).

    Other objects in a draft name only some of the fields the platform returns (it adds ids,
    money types and the like), so only the named ones are compared; a localized string is
    compared whole."""
    return bool(value) and all(_is_locale(k) for k in value)


def _is_locale(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    head, *rest = key.split("-")
    return len(head) == 2 and head.isalpha() and head.islower() and all(p.isalnum() for p in rest)


@dataclass(frozen=True)
class Setter:
    """One top-level field and the update action that sets it.

    `param` is the action's field name (defaults to the field's); `required` fields cannot be
    unset (the action has no "remove" form), so a null in the draft is ignored for them.
    """

    field: str
    action: str
    param: str | None = None
    required: bool = False

    def actions(
        self, current: Mapping[str, Any], desired: Mapping[str, Any], replace: frozenset[str]
    ) -> list[Action]:
        """The action, with an object merged into the current one (merging what is already
        there is no action), or, when `replace` names the field, sent as given where it is not
        the whole current object."""
        if self.field not in desired:
            return []
        have = current.get(self.field)
        value = written(self.field, have, desired[self.field], replace, is_value)
        whole = self.field in replace and isinstance(value, Mapping) and not is_value(value)
        if (same_whole if whole else same)(value, have) or (value is None and self.required):
            return []
        action: Action = {"action": self.action}
        if value is not None:
            action[self.param or self.field] = value
        return [action]


def setter_actions(
    setters: Iterable[Setter],
    current: Mapping[str, Any],
    desired: Mapping[str, Any],
    replace: frozenset[str],
) -> list[Action]:
    return [action for setter in setters for action in setter.actions(current, desired, replace)]
