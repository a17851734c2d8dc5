"""Check credential values against a connector's fields before anything is stored or sent.

Every problem names the field (key and label) and says what was expected, and all problems are
reported at once, so a user fixes a bad instance in one go rather than one error per attempt.
Messages quote a value only for non-secret fields.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cartwire.connectors.schema import AuthMethod, CredentialField, render
from cartwire.refusals import InputRefused

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class FieldProblem:
    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} ({self.label}): {self.message}"


class InvalidFields(InputRefused):
    """Every problem of an instance's fields at once, each with the field's key and label."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        message = "; ".join(str(p) for p in problems)
        super().__init__(message, [(p.key, p.message) for p in problems])


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidFields(
            [
                FieldProblem(
                    "name",
                    "Name",
                    "expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
                    f"or digit (got {name!r})",
                )
            ]
        )


def is_constant(field: CredentialField) -> bool:
    """A field with a single allowed value: asking for it only gives a chance to get it wrong."""
    return field.choices is not None and len(field.choices) == 1


def allowed_values(field: CredentialField, values: dict[str, str]) -> list[str] | None:
    """The choices a field is held to, given the other values (none once they free it)."""
    if any(values.get(other) for other in field.choices_unless_set):
        return None
    return field.choices


def _shown(field: CredentialField, value: str) -> str:
    return "the given value" if field.secret else repr(value)


def _check_field(field: CredentialField, value: str, values: dict[str, str]) -> str | None:
    if not value:
        return f"required; {field.help}" if field.required else None
    if field.kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"expected an http(s) URL such as https://host.example.com, got {value!r}"
    choices = allowed_values(field, values)
    if choices and value not in choices:
        hint = (
            f" (or set {' or '.join(field.choices_unless_set)} for another host)"
            if field.choices_unless_set
            else ""
        )
        return f"expected one of {', '.join(choices)}{hint}, got {_shown(field, value)}"
    if field.pattern:
        items = value.split(field.list_separator) if field.list_separator else [value]
        for item in filter(None, items):
            match = re.fullmatch(field.pattern, item)
            if not match:
                return f"expected {field.expected}, got {_shown(field, item)}"
            for group, other in field.group_equals.items():
                if values.get(other) and match.group(group) != values[other]:
                    return (
                        f"{item!r} names {group} {match.group(group)!r} but {other} is "
                        f"{values[other]!r}; expected {field.expected}"
                    )
    return None


def _with_defaults(method: AuthMethod, given: dict[str, str]) -> dict[str, str]:
    return {f.key: given.get(f.key, "").strip() or (f.default or "") for f in method.fields}


def problem_with(
    method: AuthMethod, field: CredentialField, value: str, given: dict[str, str]
) -> str | None:
    """What `validate` would say about this one value beside the others given so far, so a
    wizard can re-ask just this field."""
    values = _with_defaults(method, {**given, field.key: value})
    return _check_field(field, values[field.key], values)


def validate(method: AuthMethod, given: dict[str, str]) -> dict[str, str]:
    """The complete, checked set of values: given ones plus defaults for those left out."""
    problems = [
        FieldProblem(
            key,
            key,
            f"unknown field; this auth method has {', '.join(f.key for f in method.fields)}",
        )
        for key in given
        if key not in {f.key for f in method.fields}
    ]
    values = _with_defaults(method, given)
    for field in method.fields:
        message = _check_field(field, values[field.key], values)
        if message:
            problems.append(FieldProblem(field.key, field.label, message))
    if problems:
        raise InvalidFields(problems)
    return {k: v for k, v in values.items() if v}


def resolved(method: AuthMethod, values: dict[str, str]) -> dict[str, str]:
    """Values with the method's defaults filled in for empty optional fields (e.g. URLs)."""
    full = dict(values)
    for key, template in method.defaults.items():
        if not full.get(key):
            full[key] = render(template, full)
    return {k: v.rstrip("/") if k in method.defaults else v for k, v in full.items()}
