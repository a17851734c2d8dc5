"""Loading a flow file, and reporting every problem in it with its place in the file.

`validate` never stops at the first problem: YAML syntax, duplicate keys, the schema, and the
connector registry (connectors, endpoints, filters, natural keys) are all checked in one pass,
and pydantic's errors are rewritten from `loc` tuples into the file's own notation
(`steps[2].map.fields.price.transform[0]: unknown transform "centz"; did you mean "cents"?`),
with the YAML line of each problem for editors and the CLI.
"""

import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cartwire.connectors import Connector, connectors
from cartwire.flows.problems import FlowInvalid, Problem, location
from cartwire.flows.schema import Flow
from cartwire.flows.schema_types import unknown

Loc = list[str | int]


def load_flow(source: str | Path, *, registry: Mapping[str, Connector] | None = None) -> Flow:
    """The flow in `source` (a `Path`; or a `str`: YAML text when it has a line break, else a
    file path), checked against `registry` (default: every installed connector).

    Raises `FlowInvalid` listing every problem."""
    flow, problems = _load(_text(source), registry)
    if flow is None:
        raise FlowInvalid(problems)
    return flow


def validate(
    source: str | Path, *, registry: Mapping[str, Connector] | None = None
) -> list[Problem]:
    """Every problem in the flow `source` (as for `load_flow`), in file order; [] when valid."""
    return _load(_text(source), registry)[1]


def check_text(
    text: str, *, registry: Mapping[str, Connector] | None = None
) -> tuple[Flow | None, list[Problem]]:
    """The flow in a file's text and every problem in it (the flow only when there are none).
    Never reads a path, however short the text: it may come from a request."""
    return _load(text, registry)


def _text(source: str | Path) -> str:
    if isinstance(source, str) and "\n" in source:
        return source
    return Path(source).read_text(encoding="utf-8")


def _load(text: str, registry: Mapping[str, Connector] | None) -> tuple[Flow | None, list[Problem]]:
    try:
        loader = yaml.SafeLoader(text)  # refuses a text with control characters already
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    finally:
        loader.dispose()
    if root is None:
        return None, [Problem("", "the file is empty; a flow needs name, source and outputs")]
    problems = list(_duplicate_keys(root, []))
    context = {"connectors": connectors() if registry is None else registry}
    try:
        flow = Flow.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [_problem(error, root) for error in exc.errors(include_url=False)]
        flow = None
    problems.sort(key=lambda p: p.line or 0)
    return (flow if not problems else None), problems


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    where = f" (line {line}, column {mark.column + 1})" if mark else ""
    reason = getattr(exc, "problem", None) or exc
    return Problem("", f"not valid YAML: {reason}{where}", line)


def _problem(error: Any, root: yaml.Node) -> Problem:
    """One pydantic error as `path: message`."""
    loc: Loc = list(error["loc"])
    kind, message = error["type"], error["msg"]
    if kind == "flow":
        loc += (error.get("ctx") or {}).get("flow_path", ())
    elif kind == "extra_forbidden":
        key = str(loc.pop())
        message = unknown("setting" if loc == ["settings"] else "key", key, _keys_at(loc))
    elif kind == "missing":
        message = "required"
    elif kind in ("model_type", "dict_type"):
        message = "expected a mapping (key: value, ...)"
    elif kind == "list_type":
        message = "expected a list"
    return Problem(location(loc), message, _line(root, loc))


def _keys_at(loc: Loc) -> list[str]:
    """The keys the model at `loc` accepts, by walking the models' annotations from `Flow`."""
    kind: Any = Flow
    for part in loc:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            fields = {f.alias or name: f for name, f in kind.model_fields.items()}
            kind = fields[part].annotation if part in fields else None
        elif typing.get_origin(kind) in (list, dict):
            kind = typing.get_args(kind)[-1]
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [f.alias or name for name, f in kind.model_fields.items()]
    return []


def _unwrap(kind: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` → X."""
    while True:
        if typing.get_origin(kind) is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif typing.get_origin(kind) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(kind) if a is not type(None)]
            if len(members) != 1:
                return kind
            kind = members[0]
        else:
            return kind


def _line(root: yaml.Node, loc: Loc) -> int | None:
    """The line of the deepest node along `loc` that the file has."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if not found:
                break
            key, node = found[-1]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node, loc: Loc) -> Iterator[Problem]:
    """YAML keeps the last of two equal keys silently; a flow file with two `map:` or two
    target fields of one name is a mistake worth reporting."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            if name in first:
                message = f'duplicate key "{name}" (first on line {first[name]})'
                yield Problem(location([*loc, name]), message, line)
            first.setdefault(name, line)
            yield from _duplicate_keys(value, [*loc, name])
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, [*loc, index])
