"""Problems found in a flow file, each tied to its place in the file.

A place is written the way a reader finds it in the YAML: `steps[2].map.fields.price.transform[0]`.
The same notation names the step or transform a record failed in (see `process`), so a run log
and `cartwire flows validate` point at the file in one language.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def location(parts: Iterable[str | int]) -> str:
    """`("steps", 2, "map")` → `steps[2].map`; keys that are not plain words are quoted
    (`fields["totalPrice.centAmount"]`) so a dotted target field is not read as nesting."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f'["{part}"]'
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow file: where (`path`, and the YAML line when known) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path or '(top level)'}: {self.message}"


class FlowInvalid(ValueError):
    """A flow file with problems; `problems` lists every one of them, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FlowError(RuntimeError):
    """The flow cannot run with these instances (wrong connector, unknown endpoint, a lookup
    table it reads is missing …)."""
