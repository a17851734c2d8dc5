"""Find and load connector files: the ones installed platforms register
(`cartwire.platforms.registry`), plus any a user drops into `$CARTWIRE_HOME/connectors/` (adding
a connector is adding a file). Every file is checked whole as it loads, strategy names
included."""

from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from cartwire.connectors.schema import Connector
from cartwire.connectors.strategy_names import unknown_strategies
from cartwire.home import data_dir
from cartwire.platforms.registry import CONNECTOR_FILE, registry


class ConnectorError(LookupError):
    """An unknown connector, or a connector file that does not validate."""


def _parse(text: str, origin: str) -> Connector:
    try:
        connector = Connector.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ConnectorError(f"{origin}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConnectorError(f"{origin}: {problems}") from exc
    unknown = unknown_strategies(connector)
    if unknown:
        raise ConnectorError(f"{origin}: {'; '.join(unknown)}")
    return connector


def _user_files() -> list[Path]:
    folder = data_dir() / "connectors"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


@cache
def _builtin() -> dict[str, Connector]:
    found = {}
    known = registry()
    for name in known.names(CONNECTOR_FILE):
        file = known.get(CONNECTOR_FILE, name)
        origin = str(file)
        connector = _parse(file.read_text(encoding="utf-8"), origin)
        if connector.name != name:
            raise ConnectorError(f"{origin}: registered as {name!r} but names {connector.name!r}")
        found[name] = connector
    return found


def connectors() -> dict[str, Connector]:
    """Every connector by name; a user file may not silently replace a built-in one."""
    found = dict(_builtin())
    for path in _user_files():
        connector = _parse(path.read_text(encoding="utf-8"), str(path))
        if connector.name in found:
            raise ConnectorError(f"{path}: connector {connector.name!r} already exists")
        found[connector.name] = connector
    return found


def get_connector(name: str) -> Connector:
    known = connectors()
    if name not in known:
        raise ConnectorError(f"unknown connector {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
