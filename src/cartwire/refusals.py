"""Input refused for what its fields hold, whichever layer checked it.

The checks stay where their rules are (an instance's credential fields in `instances`, names
and roles in the access service, run queries in the run service), but every shell answers
them alike: each field named with the rule it broke, beside the input it came from (a
command-line option, a form input, a member of a JSON body). One base lets a shell do that once
for all of them; it imports nothing, so the engine's checks can use it as well as the services.
"""

from collections.abc import Sequence


class InputRefused(ValueError):
    """Input refused: `refused` is each field at fault (as the service names it) with the rule
    it broke, in the order found."""

    def __init__(self, message: str, refused: Sequence[tuple[str, str]]) -> None:
        super().__init__(message)
        self.refused = list(refused)


class FieldRefused(InputRefused):
    """One field refused, e.g. `role: must be one of admin, manager, user, read-only`."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", [(field, rule)])
        self.field = field
        self.rule = rule
