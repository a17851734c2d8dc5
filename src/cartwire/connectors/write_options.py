"""Write options read and checked in one place, before any writer is built.

A write strategy registers, beside its writer, a reader of its options (`WRITE_OPTIONS` in
`cartwire.platforms.registry`, under the writer's name): a function of the endpoint that
returns the options as the writer uses them, or raises `ValueError` naming the key and the
rule. The writer calls it when it is built; loading a connector file calls it for every
endpoint it writes, so a bad option fails at start-up like an unknown strategy name does. Readers
live in light modules like this one: loading connector files imports neither httpx nor
SQLAlchemy. The readers of the generic writers (`rest`, `jsonapi`) are here.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from string import Formatter

from cartwire.connectors.schema import Connector, Endpoint, key_fields
from cartwire.platforms.registry import WRITE_OPTIONS, registry


def option_problems(connector: Connector) -> list[str]:
    """One problem per endpoint whose write options its strategy refuses."""
    return list(_problems(connector))


def _problems(connector: Connector) -> Iterator[str]:
    known = registry()
    readers = set(known.names(WRITE_OPTIONS))
    for endpoint in connector.endpoints:
        if endpoint.write is None or endpoint.write.strategy not in readers:
            continue
        try:
            known.get(WRITE_OPTIONS, endpoint.write.strategy)(endpoint)
        except ValueError as exc:
            yield str(exc)


class Options:
    """A writer's options from the connector file, each checked as it is read, with the path
    of the key in the error (`endpoints[skus].write.options.update_method: …`)."""

    def __init__(self, endpoint: Endpoint, known: frozenset[str]) -> None:
        self.endpoint = endpoint
        self.given = endpoint.write.options if endpoint.write else {}
        strategy = endpoint.write.strategy if endpoint.write else "?"
        unknown = sorted(set(self.given) - known)
        if unknown:
            raise ValueError(
                f"{self.where()}: the {strategy} writer has no option "
                f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})"
            )

    def where(self, name: str | None = None) -> str:
        base = f"endpoint {self.endpoint.name!r}: write.options"
        return f"{base}.{name}" if name else base

    def problem(self, name: str, text: str) -> ValueError:
        return ValueError(f"{self.where(name)}: {text}")

    def text(self, name: str, default: str | None) -> str | None:
        value = self.given.get(name, default)
        if value is not None and not isinstance(value, str):
            raise self.problem(name, f"expected a string, got {value!r}")
        return value

    def count(self, name: str, default: int, least: int = 1) -> int:
        value = self.given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise self.problem(name, f"expected a whole number of at least {least}, got {value!r}")
        return value

    def seconds(self, name: str, default: float) -> float:
        value = self.given.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.problem(name, f"expected a number of seconds, got {value!r}")
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.given.get(name, default)
        if not isinstance(value, bool):
            raise self.problem(name, f"expected true or false, got {value!r}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.given.get(name, default)
        if value not in choices:
            raise self.problem(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def names(self, name: str) -> frozenset[str]:
        value = self.given.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.problem(name, f"expected a list of field names, got {value!r}")
        return frozenset(value)

    def mapping(self, name: str) -> dict[str, str]:
        value = self.given.get(name, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.problem(name, f"expected a mapping of names to strings, got {value!r}")
        return dict(value)

    def template(self, name: str, default: str, fields: frozenset[str]) -> str:
        value = self.text(name, default) or default
        unknown = {f for _, f, _, _ in Formatter().parse(value) if f} - fields
        if unknown:
            raise self.problem(
                name, f"{value!r} names {sorted(unknown)}; it may use {sorted(fields)}"
            )
        return value


KEYED = frozenset(
    {
        "lookup_param",
        "lookup_values",
        "lookup_separator",
        "item_path",
        "read_only",
        "write_only",
        "concurrency",
    }
)
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class KeyedOptions:
    """The options every upsert by natural key takes (`cartwire.resources.keyed_writer`)."""

    key: tuple[str, ...]
    concurrency: int
    item_path: str
    read_only: frozenset[str]
    write_only: frozenset[str]
    lookup_params: dict[str, str]
    lookup_values: int
    lookup_separator: str | None


def keyed_options(options: Options) -> KeyedOptions:
    key = key_fields(options.endpoint.natural_key)
    separator = options.text("lookup_separator", ",")
    if separator == "":
        raise options.problem("lookup_separator", "expected a separator or null, got ''")
    return KeyedOptions(
        key=key,
        concurrency=options.count("concurrency", DEFAULT_CONCURRENCY),
        item_path=options.template("item_path", "{path}/{id}", frozenset({"path", "id"})),
        read_only=options.names("read_only"),
        write_only=options.names("write_only"),
        lookup_params=_lookup_params(options, key),
        lookup_values=options.count("lookup_values", 1),
        lookup_separator=separator,
    )


def _lookup_params(options: Options, key: tuple[str, ...]) -> dict[str, str]:
    given = options.given.get("lookup_param")
    if given is None or isinstance(given, dict):
        return options.mapping("lookup_param")
    if len(key) != 1:
        raise options.problem(
            "lookup_param",
            f"the natural key has several fields ({', '.join(key)}): "
            "give a mapping of each field to its parameter",
        )
    return {key[0]: str(options.text("lookup_param", None))}


@dataclass(frozen=True)
class RestOptions:
    """The `rest` writer's (`cartwire.resources.rest_writer`)."""

    keyed: KeyedOptions
    update_method: str
    wrap: str | None
    record_path: str | None
    id_field: str


def rest_options(endpoint: Endpoint) -> RestOptions:
    options = Options(endpoint, KEYED | {"update_method", "wrap", "record_path", "id_field"})
    wrap = options.text("wrap", None)
    return RestOptions(
        keyed=keyed_options(options),
        update_method=options.choice("update_method", "PATCH", ("PATCH", "PUT")),
        wrap=wrap,
        record_path=options.text("record_path", wrap),
        id_field=options.text("id_field", None) or endpoint.primary_key,
    )


@dataclass(frozen=True)
class JsonApiOptions:
    """The `jsonapi` writer's (`cartwire.resources.jsonapi_writer`)."""

    keyed: KeyedOptions
    type: str
    relationships: dict[str, str]


def jsonapi_options(endpoint: Endpoint) -> JsonApiOptions:
    if endpoint.format != "jsonapi":
        raise ValueError(
            f"endpoint {endpoint.name!r}: the jsonapi writer reads records as JSON:API "
            "resources; set `format: jsonapi` on the endpoint"
        )
    options = Options(endpoint, KEYED | {"type", "relationships"})
    return JsonApiOptions(
        keyed=keyed_options(options),
        type=options.text("type", None) or endpoint.path.split("?", 1)[0].strip("/"),
        relationships=options.mapping("relationships"),
    )
