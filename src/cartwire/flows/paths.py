"""Paths into a record (`variant.images[0].url`) and `[[path]]` templates.

A path is dot-separated field names, each optionally followed by list indices (`[0]`, `[-1]` for
the last item). A leading `payload.` is optional (`payload.id` and `id` are the same field), so
Patchworks-style payload variables work as they are. Reading never fails on data: a missing
field, an index past the end or a step into something that is not a mapping or list gives None,
because source records are sparse and a flow says with `required`, `default` or a filter what
an absent value means.

Paths are checked when the flow is loaded (`parse` raises `PathSyntaxError`), so a typo in the
file is a validation problem, never a per-record failure.
"""

import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

Segment = str | int

_SEGMENT = re.compile(r"([^.\[\]\s]+)((?:\[-?\d+\])*)")
_INDEX = re.compile(r"\[(-?\d+)\]")
# A placeholder's path may hold indices: `[[variant.images[0].url]]`.
_PLACEHOLDER = re.compile(r"\[\[\s*((?:[^\[\]\s]|\[-?\d+\])+)\s*\]\]")
PAYLOAD = "payload"


class PathSyntaxError(ValueError):
    """A path or template that cannot be read; the message says what is wrong with it."""


@lru_cache(maxsize=4096)
def parse(path: str) -> tuple[Segment, ...]:
    """The segments of `path`: names and list indices; `()` for `payload` (the whole record)."""
    if not path or path != path.strip():
        raise PathSyntaxError(f'bad path "{path}": empty or surrounded by spaces')
    segments: list[Segment] = []
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise PathSyntaxError(
                f'bad path "{path}": "{part}" is not a field name with optional [index]'
            )
        segments.append(match.group(1))
        segments.extend(int(i) for i in _INDEX.findall(match.group(2)))
    if segments[0] == PAYLOAD:
        segments.pop(0)
    return tuple(segments)


def get(record: Any, path: str) -> Any:
    """The value at `path` in `record`, or None when any part of the way is missing."""
    value = record
    for segment in parse(path):
        if isinstance(segment, int):
            if not isinstance(value, list) or not -len(value) <= segment < len(value):
                return None
            value = value[segment]
        elif isinstance(value, dict):
            value = value.get(segment)
        else:
            return None
    return value


def parse_target(path: str) -> tuple[str, ...]:
    """A map target: dotted field names only (`totalPrice.centAmount` nests), no indices."""
    segments = parse(path) if path != PAYLOAD else ()
    if not segments or any(isinstance(s, int) for s in segments):
        raise PathSyntaxError(f'bad target field "{path}": use field names joined by dots')
    return tuple(str(s) for s in segments)


def put(record: dict[str, Any], target: tuple[str, ...], value: Any) -> None:
    """Set `value` at `target` in `record`, creating the nested mappings on the way."""
    node = record
    for name in target[:-1]:
        node = node.setdefault(name, {})
    node[target[-1]] = value


def template_paths(template: str) -> list[str]:
    """Every placeholder's path; raises `PathSyntaxError` for a bad or unclosed placeholder."""
    paths = [m.group(1) for m in _PLACEHOLDER.finditer(template)]
    for path in paths:
        parse(path)
    rest = _PLACEHOLDER.sub("", template)
    if "[[" in rest or "]]" in rest:
        raise PathSyntaxError(
            f'bad template "{template}": a placeholder is [[path]], e.g. [[payload.id]]'
        )
    return paths


def render(template: str, record: Any) -> str:
    """The template with each `[[path]]` replaced by the value there (an absent value: empty)."""
    return _PLACEHOLDER.sub(lambda m: text(get(record, m.group(1))), template)


def text(value: Any) -> str:
    """A value as it reads in a string: None empty, booleans lowercase (as in JSON), numbers
    as written, mappings and lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
