"""What an upsert decided to do with one record, before doing it."""

from dataclasses import dataclass, field
from typing import Any, Literal

from cartwire.platforms.commercelayer.records import Desired, linked_id
from cartwire.resources.writer import Change, Outcome, WriteResult

Action = Literal["create", "update", "unchanged", "failed"]
Changes = tuple[dict[str, Any], dict[str, str | None]]
OUTCOMES: dict[Action, Outcome] = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "failed": "failed",
}


@dataclass(eq=False)
class Plan:
    """create / update (only `attributes` and `relationships`, which differ) / unchanged /
    failed (`code`, `message`); `current` is the platform's record, if there is one."""

    desired: Desired
    action: Action
    current: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, str | None] = field(default_factory=dict)
    code: str | None = None
    message: str | None = None

    @classmethod
    def create(cls, desired: Desired) -> "Plan":
        return cls(desired, "create", None, desired.attributes, desired.relationships)

    @classmethod
    def failed(cls, desired: Desired, code: str, message: str) -> "Plan":
        return cls(desired, "failed", code=code, message=message)

    @classmethod
    def against(cls, desired: Desired, current: dict[str, Any], changes: "Changes") -> "Plan":
        """An update of what differs from `current`, or unchanged."""
        attributes, relationships = changes
        action: Action = "update" if attributes or relationships else "unchanged"
        return cls(desired, action, current, attributes, relationships)

    def result(
        self, outcome: Outcome | None = None, record: dict[str, Any] | None = None
    ) -> WriteResult:
        """The result this plan means (or `outcome`): for a dry run, an unchanged record, a
        confirmed import (`record`: the platform's version, if read)."""
        label = self.desired.label
        if self.action == "failed":
            return WriteResult(label, "failed", code=self.code, message=self.message)
        shown = record if record is not None else self.current
        return WriteResult(
            label,
            outcome or OUTCOMES[self.action],
            id=None if shown is None else shown.get("id"),
            record=shown,
            changes=self.changes() if self.action == "update" else None,
        )

    def changes(self) -> tuple[Change, ...]:
        """The attributes and relationships this update sends, each with the value it replaces
        (a relationship by its target's id)."""
        current = self.current or {}
        return (
            *(Change(name, current.get(name), new) for name, new in self.attributes.items()),
            *(
                Change(name, linked_id(current.get(name)), new)
                for name, new in self.relationships.items()
            ),
        )
