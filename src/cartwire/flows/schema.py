"""The flow file's grammar, as pydantic models.

Everything that can be checked without data is checked here, so that a flow that loads cannot
fail on a typo in the middle of a run: paths and templates parse, regexes compile, cron
expressions have five fields, time zones exist, transform and step names are known, and, when
the connector registry is passed as validation context (`{"connectors": {...}}`, as
`validation.load_flow` does), connectors, endpoints, filter keys and natural keys exist.

Problems are raised as `checks.problem` errors; `validation` turns them, and pydantic's own
errors, into `path: message` problems.

Kinds chosen by a key (a step `{map: ...}`, a transform `{cents: ...}`, a trigger) are models
with one optional field per kind and exactly one of them set, rather than unions: pydantic then
reports the errors inside one kind with the kind in the path (`transform[0].cents.fraction_digits`)
instead of one error per union member.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cartwire.connectors.schema import Connector, Endpoint, key_fields
from cartwire.flows import paths
from cartwire.flows.problems import FlowError
from cartwire.flows.schema_types import (
    Cron,
    Name,
    NoArgs,
    OneOf,
    PythonName,
    RecordPath,
    Slug,
    Strict,
    Template,
    TimeZone,
    choice,
    listify,
    matching,
    problem,
    registered,
    unknown,
)
from cartwire.platforms.registry import WEBHOOK

# ---------------------------------------------------------------------------------------------
# Transforms (implemented in `transforms`; a test keeps the two lists equal)


class DatetimeArgs(Strict):
    format: str | None = None  # strptime format of the input; None: ISO 8601 (`Z` allowed)
    timezone: TimeZone = "UTC"  # the zone of an input that carries no offset
    to: TimeZone = "UTC"  # the zone of the output
    output: str | None = None  # strftime format of the output; None: ISO 8601


class MoneyArgs(Strict):
    fraction_digits: int = Field(default=2, ge=0, le=8)


class LocalizedArgs(Strict):
    locale: str = Field(min_length=1)
    fallback: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"locale": data} if isinstance(data, str) else data


class LookupArgs(Strict):
    table: Slug
    default: str | None = None  # the result for a key the table does not have
    missing: Annotated[
        Literal["error", "null", "keep"], choice("missing behaviour", ["error", "null", "keep"])
    ] = "error"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"table": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _default_or_missing(self) -> Self:
        if self.default is not None and "missing" in self.model_fields_set:
            raise problem("give default or missing, not both (a default is never missing)")
        return self


class TransformCall(OneOf):
    """One transform of a field's chain; `kind` is its name, `args` its arguments."""

    what = "transform"
    bare = {
        **{
            name: {}
            for name in ["string", "upper", "lower", "trim", "number", "integer", "datetime"]
        },
        **{name: {} for name in ["cents", "from_cents"]},
        "round": 0,
        "join": ",",
        "split_string": ",",
    }

    string: NoArgs | None = None
    upper: NoArgs | None = None
    lower: NoArgs | None = None
    trim: NoArgs | None = None
    truncate: Annotated[int, Field(ge=1)] | None = None
    number: NoArgs | None = None
    integer: NoArgs | None = None
    round: Annotated[int, Field(ge=0, le=12)] | None = None
    datetime: DatetimeArgs | None = None
    cents: MoneyArgs | None = None
    from_cents: MoneyArgs | None = None
    localized: LocalizedArgs | None = None
    lookup: LookupArgs | None = None
    default: Any = None
    template: Template | None = None
    python: PythonName | None = None
    join: str | None = None
    split_string: Annotated[str, Field(min_length=1)] | None = None
    map_values: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# Steps

OPS = ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing", "matches"]
Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing", "matches"]


class Condition(Strict):
    """`{field, op, value}`, or `all:` / `any:` (lists) or `not:` (one condition); a list of
    conditions is short for `all:`."""

    field: RecordPath | None = None
    op: Annotated[Op, choice("filter op", OPS)] | None = None
    value: Any = None
    all: list["Condition"] | None = Field(default=None, min_length=1)
    any: list["Condition"] | None = Field(default=None, min_length=1)
    not_: "Condition | None" = Field(default=None, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"all": data} if isinstance(data, list) else data

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        given = self.model_fields_set
        combinators = [name for name in ("all", "any", "not_") if name in given]
        if combinators:
            if len(combinators) > 1 or {"field", "op", "value"} & given:
                raise problem("a condition is either field/op/value or one of all, any, not")
            return self
        if self.field is None:
            raise problem("required (or use all, any or not)", "field")
        if self.op is None:
            raise problem("required", "op")
        self._check_value("value" in given)
        return self

    def _check_value(self, given: bool) -> None:
        if self.op in ("exists", "missing"):
            if given:
                raise problem(f"op {self.op} takes no value", "value")
        elif not given:
            raise problem(f"op {self.op} needs a value", "value")
        elif self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise problem(f"op {self.op} needs a list of values", "value")
        elif self.op == "matches":
            if not isinstance(self.value, str):
                raise problem("op matches needs a regular expression (a string)", "value")
            try:
                re.compile(self.value)
            except re.error as exc:
                raise problem(f'bad regular expression "{self.value}": {exc}', "value") from None
        elif self.op in ("gt", "gte", "lt", "lte") and (
            self.value is None or isinstance(self.value, list | dict | bool)
        ):
            raise problem(f"op {self.op} needs a number or a string to compare with", "value")


class EachSpec(Strict):
    """Map every item of a list (that matches `where`): fields read from the item under `as`
    (the record stays readable too), or from the item itself when `as` is not given."""

    as_: Name | None = Field(default=None, alias="as")
    where: Condition | None = None
    fields: "Fields"

    @model_validator(mode="after")
    def _no_replace(self) -> Self:
        for name, spec in self.fields.items():
            if spec.replace:
                raise problem(
                    "replace: true has no effect inside each: a list is always written whole",
                    "fields",
                    name,
                    "replace",
                )
        return self


class FieldSpec(Strict):
    """Where one target field's value comes from (exactly one of `from`, `value`, `template`)
    and the transforms applied to it in order. A bare string is short for `{from: path}`."""

    from_: RecordPath | None = Field(default=None, alias="from")
    value: Any = None
    template: Template | None = None
    default: Any = None  # replaces an absent (None) source value, before the transforms
    required: bool = False  # an absent (None) final value fails the record
    # The object this target is part of (its top-level field) replaces the destination's,
    # instead of merging into it (`cartwire.resources.nested`).
    replace: bool = False
    each: EachSpec | None = None
    transform: Annotated[list[TransformCall], BeforeValidator(listify)] = []

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"from": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [s for s in ("from_", "value", "template") if s in self.model_fields_set]
        if len(sources) != 1:
            raise problem("give exactly one of from, value, template")
        if self.each is not None and self.from_ is None:
            raise problem("each needs from (the list to map)", "each")
        return self


def _targets(fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
    """Target names are dotted field names, and no target is inside another (`a` and `a.b`)."""
    seen: dict[tuple[str, ...], str] = {}
    for name in fields:
        try:
            target = paths.parse_target(name)
        except paths.PathSyntaxError as exc:
            raise problem(str(exc), name) from None
        for other_target, other in seen.items():
            shorter = min(len(target), len(other_target))
            if target[:shorter] == other_target[:shorter]:
                raise problem(f'"{name}" overlaps target field "{other}"', name)
        seen[target] = name
    return fields


Fields = Annotated[dict[str, FieldSpec], Field(min_length=1), AfterValidator(_targets)]

# Transforms whose result is never an object (so never something `replace: true` can replace).
NOT_OBJECTS = frozenset(
    {
        *("string", "upper", "lower", "trim", "truncate", "number", "integer", "round"),
        *("datetime", "cents", "from_cents", "localized", "lookup", "template", "join"),
        "split_string",
    }
)


def _makes_object(spec: FieldSpec) -> str | None:
    """Why the field's value cannot be an object, when that shows without data."""
    if spec.transform:
        last = spec.transform[-1].kind
        return f"its last transform, {last}, never makes one" if last in NOT_OBJECTS else None
    if spec.template is not None:
        return "a template makes a string"
    if spec.each is not None:
        return "each makes a list"
    if "value" in spec.model_fields_set and not isinstance(spec.value, dict):
        return f"its value is {type(spec.value).__name__}"
    return None


def _replaced(fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
    """`replace: true` is on an object target, and on all or none of the targets that make one
    top-level object (`metadata.a` and `metadata.b` are written together)."""
    objects: dict[str, list[str]] = {}
    for name in fields:
        objects.setdefault(paths.parse_target(name)[0], []).append(name)
    for top, names in objects.items():
        flags = {fields[n].replace for n in names}
        if len(flags) > 1:
            marked = next(n for n in names if fields[n].replace)
            raise problem(
                f'replace: true is on "{marked}" but not on every target under "{top}" '
                f"({', '.join(names)}): they make one object, give it on all or none",
                marked,
                "replace",
            )
        if names == [top] and fields[top].replace and (why := _makes_object(fields[top])):
            raise problem(
                f'replace: true replaces an object, and "{top}" cannot hold one: {why} '
                f'(to replace an object, map it whole, or give replace on its fields: "{top}.a")',
                top,
                "replace",
            )
    return fields


class MapStep(Strict):
    """Build a new record from the target fields; the record it read from is dropped."""

    fields: Annotated[Fields, AfterValidator(_replaced)]


class SplitStep(Strict):
    """One record → one per item found at `paths` (lists are spread, a single object counts as
    one item, absent paths give nothing). Each new record is:

    - `as` and `parent`: `{parent: record, as: item}`
    - `as` only: the record's fields plus `as: item`
    - `parent` only: the item's fields plus `parent: record`
    - neither: the item itself
    """

    paths: Annotated[list[RecordPath], Field(min_length=1)]
    as_: Name | None = Field(default=None, alias="as")
    parent: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and "path" in data and "paths" not in data:
            data = {**data, "paths": listify(data["path"])}
            del data["path"]
        return data

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if self.as_ is not None and self.as_ == self.parent:
            raise problem("as and parent must be different names", "parent")
        return self


class BatchStep(Strict):
    """How many records the runner writes in one go (overrides settings.batch_size)."""

    size: int = Field(ge=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"size": data} if isinstance(data, int) else data


class Step(OneOf):
    """One step; `flatten` is another name for `split` (e.g. for a variant's `prices`)."""

    what = "step"

    map: MapStep | None = None
    filter: Condition | None = None
    split: SplitStep | None = None
    flatten: SplitStep | None = None
    batch: BatchStep | None = None


def _one_batch(steps: list[Step]) -> list[Step]:
    batches = [i for i, step in enumerate(steps) if step.batch is not None]
    if len(batches) > 1:
        raise problem("only one batch step per list of steps", batches[1])
    return steps


Steps = Annotated[list[Step], AfterValidator(_one_batch)]


# ---------------------------------------------------------------------------------------------
# Source, destinations, triggers, settings


def _registry(info: ValidationInfo) -> Mapping[str, Connector] | None:
    context = info.context
    return context.get("connectors") if isinstance(context, dict) else None


def _endpoint(info: ValidationInfo, name: str) -> tuple[Connector, Endpoint] | None:
    """The endpoint `name` of the model's connector; None when there is no registry to ask or
    the connector itself was already reported unknown."""
    registry = _registry(info)
    connector = registry.get(info.data.get("connector", "")) if registry is not None else None
    if connector is None:
        return None
    for endpoint in connector.endpoints:
        if endpoint.name == name:
            return connector, endpoint
    known = [e.name for e in connector.endpoints]
    raise problem(unknown("endpoint", name, known, of=connector.name))


def _bound(info: ValidationInfo) -> tuple[Connector, Endpoint] | None:
    """The endpoint of a model whose `endpoint` field validated (for the fields after it)."""
    return _endpoint(info, info.data["endpoint"]) if "endpoint" in info.data else None


def _known_connector(name: str, info: ValidationInfo) -> str:
    registry = _registry(info)
    if registry is not None and name not in registry:
        raise problem(unknown("connector", name, sorted(registry)))
    return name


class Source(Strict):
    connector: str
    endpoint: str
    filters: dict[str, Annotated[list[str], BeforeValidator(listify)]] = {}
    incremental: bool = False
    # Records per source page (at most the endpoint's own page size): smaller pages mean a
    # checkpoint more often, so less work is repeated after a crash.
    page_size: int | None = Field(default=None, ge=1)

    _connector = field_validator("connector")(_known_connector)

    @field_validator("endpoint")
    @classmethod
    def _readable(cls, name: str, info: ValidationInfo) -> str:
        found = _endpoint(info, name)
        if found is not None and not found[1].receives:
            raise problem(f'endpoint "{name}" of {found[0].name} cannot be read from')
        return name

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, filters: dict[str, list[str]], info: ValidationInfo) -> Any:
        found = _bound(info)
        if found is None:
            return filters
        connector, endpoint = found
        for key, values in filters.items():
            declared = [f for f in endpoint.filters if f.param_for(key) is not None]
            if not declared:
                known = [f.key for f in endpoint.filters]
                of = f"{connector.name} {endpoint.name}"
                raise problem(unknown("filter", key, known, of=of), key)
            if len(values) > 1 and not declared[0].repeat:
                raise problem(f'filter "{key}" takes one value', key)
        return filters

    @field_validator("incremental")
    @classmethod
    def _incremental_declared(cls, incremental: bool, info: ValidationInfo) -> bool:
        found = _bound(info) if incremental else None
        if found is not None and found[1].incremental is None:
            raise problem(
                f"endpoint {found[1].name} of {found[0].name} has no incremental reads; "
                "set incremental: false"
            )
        return incremental


Mode = Literal["create-only", "upsert", "update-only"]
MODES = ["create-only", "upsert", "update-only"]


class Destination(Strict):
    """Where an output's records go. `key` is the field (or comma-separated fields) records are
    matched by; when the flow leaves it out, loading fills in the endpoint's natural key."""

    connector: str
    endpoint: str
    mode: Annotated[Mode, choice("mode", MODES)] = "upsert"
    key: str | None = Field(default=None, validate_default=True)

    _connector = field_validator("connector")(_known_connector)

    @field_validator("endpoint")
    @classmethod
    def _writable(cls, name: str, info: ValidationInfo) -> str:
        found = _endpoint(info, name)
        if found is not None and not found[1].sends:
            raise problem(f'endpoint "{name}" of {found[0].name} cannot be written to')
        return name

    @field_validator("key")
    @classmethod
    def _natural_key(cls, key: str | None, info: ValidationInfo) -> str | None:
        found = _bound(info)
        if found is None or "mode" not in info.data:
            return key
        connector, endpoint = found
        natural = endpoint.natural_key
        if key is not None and natural is not None and key_fields(key) != key_fields(natural):
            raise problem(
                f'{connector.name} {endpoint.name} records are matched by "{natural}", not "{key}"'
            )
        if key is None and natural is None and info.data.get("mode") != "create-only":
            raise problem(
                f"required: {connector.name} {endpoint.name} declares no natural key, "
                f"so {info.data['mode']} needs the field records are matched by"
            )
        return key or natural


class WebhookTrigger(Strict):
    kind: Annotated[str, registered("webhook kind", WEBHOOK)]


class Trigger(OneOf):
    what = "trigger"
    bare = {"manual": {}}

    manual: NoArgs | None = None
    schedule: Cron | None = None  # 5-field cron, UTC
    webhook: WebhookTrigger | None = None


class Settings(Strict):
    batch_size: int = Field(default=100, ge=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    retries_per_record: int = Field(default=2, ge=0, le=10)
    on_record_error: Annotated[
        Literal["continue", "stop"], choice("on_record_error", ["continue", "stop"])
    ] = "continue"


class LookupDerive(Strict):
    """Entries read at run start from the destination instance: for each record of `endpoint`,
    the value at `key` maps to the value at `value` (e.g. a price list's currency → its code)."""

    endpoint: str
    key: RecordPath
    value: RecordPath


class LookupTable(Strict):
    """Where a lookup table's entries come from when nobody imported it (an imported table is
    used as it is, whole): `default` entries, overlaid by `derive`d ones. `required` keys are
    checked before a run starts, whatever the table's origin."""

    default: dict[str, str] = {}
    derive: LookupDerive | None = None
    required: list[Annotated[str, Field(min_length=1)]] = []

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not (self.default or self.derive or self.required):
            raise problem("give default entries, derive, or required keys")
        return self


# A run's counts by step name the source's read so, beside its outputs: no output may be.
READ_STEP = "read"


class Output(Strict):
    """One destination and the steps that shape records for it (after the shared steps)."""

    name: Annotated[
        str, matching(r"[a-z][a-z0-9_/-]*", "use lowercase letters, digits, _, - and /")
    ]
    steps: Steps = []
    destination: Destination


# A flow's name is also its file's name in $CARTWIRE_HOME/flows/ and part of webhook URLs.
FLOW_NAME = r"[a-z0-9-]+"
FLOW_NAME_RULE = "use lowercase letters, digits and -"


class Flow(Strict):
    """A whole flow file. `outputs` is always the list of outputs: a top-level `destination`
    (one output without steps of its own, named after its endpoint) becomes `outputs[0]` on
    load; `destination` itself stays as written only so that places in the file can be named."""

    model_config = ConfigDict(frozen=False)

    name: Annotated[str, matching(FLOW_NAME, FLOW_NAME_RULE)]
    description: str = ""
    version: int = Field(default=1, ge=1)
    triggers: list[Trigger] = Field(
        default_factory=lambda: [Trigger(manual=NoArgs())], min_length=1
    )
    source: Source
    steps: Steps = []
    outputs: list[Output] = []
    destination: Destination | None = None
    lookups: dict[str, LookupTable] = {}
    settings: Settings = Settings()

    @model_validator(mode="after")
    def _normalise_outputs(self) -> Self:
        if self.destination is not None:
            if self.outputs:
                raise problem("give destination (one output) or outputs, not both", "destination")
            self.outputs = [Output(name=self.destination.endpoint, destination=self.destination)]
        elif not self.outputs:
            raise problem("required: a destination, or a list of outputs", "outputs")
        names: set[str] = set()
        for i, output in enumerate(self.outputs):
            if output.name in names:
                raise problem(f'duplicate output name "{output.name}"', "outputs", i, "name")
            if output.name == READ_STEP:
                place = ("destination", "endpoint") if self.destination else ("outputs", i, "name")
                raise problem(
                    f'output name "{READ_STEP}" is taken by the source\'s read in the counts of '
                    "a run; name the output after what it writes",
                    *place,
                )
            names.add(output.name)
            produced = _produced_fields([*self.steps, *output.steps])
            key = output.destination.key
            missing = [f for f in key_fields(key) if produced and f not in produced]
            if produced and missing:
                raise problem(
                    f'key "{missing[0]}" is not a field the map makes ({", ".join(produced)})',
                    *self.destination_place(i),
                    "key",
                )
        return self

    @model_validator(mode="after")
    def _lookups_read(self, info: ValidationInfo) -> Self:
        """Every declared table is one a transform reads, and one derived is derived from an
        endpoint the destination's connector can read."""
        read = sorted(self.lookup_tables())
        registry = _registry(info) or {}
        names = sorted({o.destination.connector for o in self.outputs} & set(registry))
        for name, table in self.lookups.items():
            if name not in read:
                raise problem(unknown("lookup table", name, read), "lookups", name)
            if table.derive is not None:
                for connector in names:
                    _derivable(registry[connector], table.derive.endpoint, name)
        return self

    def check_writes_to(self, connector: str, instance: str) -> None:
        """Raise `FlowError` unless every output writes to instances of `connector`."""
        for output in self.outputs:
            if connector != output.destination.connector:
                raise FlowError(
                    f"flow {self.name!r} writes {output.name} to {output.destination.connector} "
                    f"but instance {instance!r} is {connector}"
                )

    def destination_place(self, index: int) -> tuple[str | int, ...]:
        """Where output `index`'s destination is written in the file."""
        return (
            ("destination",) if self.destination is not None else ("outputs", index, "destination")
        )

    def batch_size(self, output: Output) -> int:
        """Records per write for `output`: its batch step, else a shared one, else settings."""
        for step in [*output.steps, *self.steps]:
            if step.batch is not None:
                return step.batch.size
        return self.settings.batch_size

    def replaced(self, output: Output) -> frozenset[str]:
        """The top-level fields whose objects `output`'s records replace at the destination
        (`replace: true` in the map that makes them); every other object merges."""
        fields: frozenset[str] = frozenset()
        for step in [*self.steps, *output.steps]:
            if step.map is not None:
                fields = frozenset(
                    paths.parse_target(target)[0]
                    for target, spec in step.map.fields.items()
                    if spec.replace
                )
            elif step.split is not None or step.flatten is not None:
                fields = frozenset()
        return fields

    def lookup_tables(self) -> set[str]:
        """The lookup tables the flow's transforms read, so a runner can check they exist."""
        return {
            call.lookup.table
            for spec in self.field_specs()
            for call in spec.transform
            if call.lookup is not None
        }

    def field_specs(self) -> Iterator[FieldSpec]:
        """Every target field's spec in the flow's maps, `each` fields included."""
        return _field_specs([*self.steps, *(s for o in self.outputs for s in o.steps)])


def _derivable(connector: Connector, endpoint: str, table: str) -> None:
    place = ("lookups", table, "derive", "endpoint")
    found = [e for e in connector.endpoints if e.name == endpoint]
    if not found:
        known = [e.name for e in connector.endpoints if e.receives]
        raise problem(unknown("endpoint", endpoint, known, of=connector.name), *place)
    if not found[0].receives:
        raise problem(f'endpoint "{endpoint}" of {connector.name} cannot be read from', *place)


def _produced_fields(steps: list[Step]) -> list[str] | None:
    """The top-level fields of the records `steps` make, when a map decides them (None when
    the last map is followed by a split, or there is no map)."""
    produced: list[str] | None = None
    for step in steps:
        if step.map is not None:
            produced = list(dict.fromkeys(paths.parse_target(t)[0] for t in step.map.fields))
        elif step.split is not None or step.flatten is not None:
            produced = None
    return produced


def _field_specs(steps: list[Step]) -> Iterator[FieldSpec]:
    def walk(fields: dict[str, FieldSpec]) -> Iterator[FieldSpec]:
        for spec in fields.values():
            yield spec
            if spec.each is not None:
                yield from walk(spec.each.fields)

    for step in steps:
        if step.map is not None:
            yield from walk(step.map.fields)


EachSpec.model_rebuild()
