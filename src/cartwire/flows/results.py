"""What processing one source record gives for each output: a record to write, a record a
filter or an empty split left out, or a record that failed with its reason."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutputRecord:
    """A record ready for the output's destination; `key` is its natural key value as text
    (None for a create-only destination without one)."""

    record: dict[str, Any]
    key: str | None


@dataclass(frozen=True)
class Skipped:
    """Left out on purpose: `at` is the filter or split step in the file, `reason` says why."""

    at: str
    reason: str


@dataclass(frozen=True)
class RecordError:
    """A record that failed: where in the flow file (`at`), which target field or record path,
    which transform, the value it was given, and why. Only this record fails, not the run."""

    at: str
    reason: str
    field: str | None = None
    transform: str | None = None
    value: Any = None

    def __str__(self) -> str:
        what = [f"field {self.field}"] if self.field else []
        if self.transform:
            what.append(f"transform {self.transform}")
        if self.transform or self.value is not None:
            what.append(f"value {_short(self.value)}")
        prefix = ", ".join(what)
        return f"{prefix}: {self.reason} (at {self.at})" if prefix else f"{self.reason} ({self.at})"


Result = OutputRecord | Skipped | RecordError


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
