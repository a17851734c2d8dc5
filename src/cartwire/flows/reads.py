"""The fields of a source record a flow reads, so that what the store keeps of a record (a
failed record, a webhook's payload) is no more than the flow needs, and never a secret.

A customer may carry its password hash, an order its access token: keeping
whole records would copy them into the database for as long as the run's failures live. So a
kept record holds only the paths the flow's steps read (`from:` paths, template placeholders,
filter fields, split and each paths, traced through the names splits bind), the destination
keys' source fields, and the source endpoint's primary key, natural key and updated-at field
(a retry reads the record again by its id). A `python:` transform or a `payload` path may read
anything, so with one the whole record is kept. At any depth, a field named like a secret
(`password`, `secret`, `token`, …) is never kept, even if the flow reads it.

Paths are traced statically, through scopes: after a split, `variant.sku` is read from the items
at the split's paths; after a map, the record holds mapped values, whose sources the map's own
paths already name. A list item (or a single object where a split or each allows one) is a
wildcard segment, so `masterData.current.variants` with `as: variant` makes `variant.sku` read
`masterData.current.variants[*].sku`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from cartwire.connectors.schema import Endpoint, key_fields
from cartwire.flows import paths
from cartwire.flows.schema import Condition, EachSpec, FieldSpec, Flow, SplitStep, Step
from cartwire.store.payloads import secret_named, without_secrets


class _Marker:
    """A segment that is no field name."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


# Every item of a list, or the value itself when it is no list.
ANY: Final = _Marker("*")
# The value's shape only (a list's items, even with none of their fields read): a split or an
# each makes one record per item, so the kept record must have as many.
SHAPE: Final = _Marker("shape")
Segment = str | _Marker
Path = tuple[Segment, ...]
# How a path read at some step maps to paths of the source record (empty: to none of it).
Scope = Callable[[tuple[str | int, ...]], list[Path]]
# A tree of kept paths: None keeps the whole value.
Tree = dict[Segment, "Tree"] | None


def _segments(parsed: Iterable[str | int]) -> Path:
    return tuple(ANY if isinstance(segment, int) else segment for segment in parsed)


def _source(path: tuple[str | int, ...]) -> list[Path]:
    """The scope of the source record itself."""
    return [_segments(path)]


def _nothing(_: tuple[str | int, ...]) -> list[Path]:
    """The scope after a map: mapped values, which the map's own paths already name."""
    return []


def _bound(outer: Scope, items: list[Path], item_as: str | None, parent: str | None) -> Scope:
    """The scope a split (or an each) makes, shaped as `schema.SplitStep` describes."""

    def of_items(rest: tuple[str | int, ...]) -> list[Path]:
        return [item + _segments(rest) for item in items]

    def scope(path: tuple[str | int, ...]) -> list[Path]:
        if not path:
            return [*outer(()), *of_items(())]
        head, rest = path[0], path[1:]
        if item_as is not None and head == item_as:
            return of_items(rest)
        if parent is not None and head == parent:
            return outer(rest)
        if item_as is not None and parent is None:  # the record's fields plus the item
            return outer(path)
        if parent is not None and item_as is None:  # the item's fields plus the record
            return of_items(path)
        if item_as is None:  # the item itself
            return of_items(path)
        return []  # {parent: record, as: item}: nothing else is there

    return scope


@dataclass
class _Reads:
    """The paths read so far; `everything` once something may read any field."""

    found: list[Path]
    everything: bool = False

    def path(self, scope: Scope, path: str) -> None:
        parsed = paths.parse(path)
        if not parsed:  # `payload`: the whole record in scope
            self.everything = True
        self.found.extend(scope(parsed))

    def condition(self, scope: Scope, condition: Condition) -> None:
        if condition.field is not None:
            self.path(scope, condition.field)
        for inner in [*(condition.all or []), *(condition.any or [])]:
            self.condition(scope, inner)
        if condition.not_ is not None:
            self.condition(scope, condition.not_)

    def fields(self, scope: Scope, fields: dict[str, FieldSpec]) -> None:
        for spec in fields.values():
            self.field(scope, spec)

    def field(self, scope: Scope, spec: FieldSpec) -> None:
        if spec.each is not None and spec.from_ is not None:  # the items' fields, not all
            self.each(scope, spec.from_, spec.each)
        elif spec.from_ is not None:
            self.path(scope, spec.from_)
        for path in paths.template_paths(spec.template) if spec.template else []:
            self.path(scope, path)
        for call in spec.transform:
            if call.template is not None:
                for path in paths.template_paths(call.template):
                    self.path(scope, path)
            if call.python is not None:  # it is handed the whole record
                self.everything = True

    def each(self, scope: Scope, from_: str, spec: EachSpec) -> None:
        items = self.items(scope, from_)
        inner = (
            _bound(scope, items, spec.as_, None)
            if spec.as_
            else _bound(_nothing, items, None, None)
        )
        if spec.where is not None:
            self.condition(inner, spec.where)
        self.fields(inner, spec.fields)

    def steps(self, scope: Scope, steps: list[Step]) -> Scope:
        """Record the paths `steps` read; the scope of the records they hand on."""
        for step in steps:
            if step.map is not None:
                self.fields(scope, step.map.fields)
                scope = _nothing
            elif step.filter is not None:
                self.condition(scope, step.filter)
            elif (split := step.split or step.flatten) is not None:
                scope = self.split(scope, split)
        return scope

    def split(self, scope: Scope, split: SplitStep) -> Scope:
        items = [item for path in split.paths for item in self.items(scope, path)]
        return _bound(scope, items, split.as_, split.parent)

    def items(self, scope: Scope, path: str) -> list[Path]:
        """The items at `path` that a split or an each goes through, kept at least in shape."""
        parsed = paths.parse(path)
        if not parsed:
            self.everything = True
        items = [(*p, ANY) for p in scope(parsed)]
        self.found.extend((*item, SHAPE) for item in items)
        return items


@dataclass(frozen=True)
class SourceFields:
    """What of a source record is kept (module docstring): `keep(record)`."""

    tree: Tree

    @classmethod
    def of(cls, flow: Flow, endpoint: Endpoint) -> "SourceFields":
        reads = _Reads([])
        shared = reads.steps(_source, flow.steps)
        for output in flow.outputs:
            done = reads.steps(shared, output.steps)
            for key in key_fields(output.destination.key):
                reads.path(done, key)
        for key in [endpoint.primary_key, *key_fields(endpoint.natural_key)]:
            reads.path(_source, key)
        if endpoint.updated_at:
            reads.path(_source, endpoint.updated_at)
        if reads.everything:
            return cls(None)
        tree: Tree = {}
        for path in reads.found:
            tree = _merge(tree, _tree(path))
        return cls(tree)

    def keep(self, record: dict[str, Any]) -> dict[str, Any]:
        kept = _project(record, self.tree)
        return kept if isinstance(kept, dict) else {}


def _tree(path: Path) -> Tree:
    tree: Tree = None
    for segment in reversed(path):
        tree = {segment: tree}
    return tree


def _merge(a: Tree, b: Tree) -> Tree:
    if a is None or b is None:
        return None
    merged = dict(a)
    for segment, below in b.items():
        merged[segment] = _merge(merged[segment], below) if segment in merged else below
    return merged


def _project(value: Any, tree: Tree) -> Any:
    if tree is None:
        return without_secrets(value)
    if isinstance(value, list):
        return [_project(item, tree[ANY]) for item in value] if ANY in tree else []
    if not isinstance(value, dict):
        return value
    if ANY in tree:  # a wildcard at an object: the object itself is the item
        rest = {k: v for k, v in tree.items() if k is not ANY}
        tree = _merge(rest, tree[ANY])
        if tree is None:
            return without_secrets(value)
    return {
        name: _project(value[name], below)
        for name, below in tree.items()
        if isinstance(name, str) and name in value and not secret_named(name)
    }
