"""Every strategy a connector file names is checked against the registry when the file loads, so
a typo fails at start-up naming the key and the names that are known, not in the middle of a
sync when the strategy is first used. Only names are looked up: nothing is imported."""

from collections.abc import Iterator

from pydantic import BaseModel

from cartwire.connectors.schema import ByName, Connector
from cartwire.platforms.registry import Kind, UnknownName, registry


def unknown_strategies(connector: Connector) -> list[str]:
    """One problem per unknown name: `endpoints.products.paging.strategy: unknown …`."""
    return list(_walk(connector, ""))


def _walk(model: BaseModel, path: str) -> Iterator[str]:
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        where = f"{path}{key}"
        if isinstance(value, ByName):
            kinds = [m for m in info.metadata if isinstance(m, Kind)]
            if not kinds:
                raise TypeError(f"schema key {where} picks a strategy but names no registry kind")
            try:
                registry().check(kinds[0], value.strategy)
            except UnknownName as exc:
                yield f"{where}.strategy: {exc}"
        elif isinstance(value, BaseModel):
            yield from _walk(value, f"{where}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    label = getattr(item, "name", None) or getattr(item, "key", None) or index
                    yield from _walk(item, f"{where}.{label}.")
