"""Find and load connector files: the built-in ones shipped in this package, plus any a user
drops into `$CARTWIRE_HOME/connectors/` (adding a connector is adding a file)."""

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from cartwire.connectors.schema import Connector
from cartwire.home import data_dir


class ConnectorError(LookupError):
    """An unknown connector, or a connector file that does not validate."""


def _parse(text: str, origin: str) -> Connector:
    try:
        return Connector.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ConnectorError(f"{origin}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConnectorError(f"{origin}: {problems}") from exc


def _user_files() -> list[Path]:
    folder = data_dir() / "connectors"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


@cache
def _builtin() -> dict[str, Connector]:
    found = {}
    platforms = resources.files("cartwire.platforms")
    for package in sorted(platforms.iterdir(), key=lambda e: e.name):
        entry = package / "connector.yaml"
        if entry.is_file():
            origin = f"platforms/{package.name}/connector.yaml"
            connector = _parse(entry.read_text(encoding="utf-8"), origin)
            found[connector.name] = connector
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
