"""The installed connectors, read from their files: nothing here opens the store (or imports
it), so `cartwire connectors list` stays light."""

from typing import Any

from cartwire.connectors import Connector, ConnectorError, connectors, get_connector


def list_connectors() -> list[Connector]:
    return list(connectors().values())


def get(name: str) -> Connector:
    return get_connector(name)


def describe(connector: Connector) -> dict[str, Any]:
    """A connector as `connectors show --json` and the HTTP API show it: its auth methods with
    every credential field as the connector file lists them."""
    return {
        "name": connector.name,
        "title": connector.title,
        "description": connector.description,
        "docs": [str(url) for url in connector.docs],
        "auth_methods": [
            {
                "key": method.key,
                "name": method.name,
                "fields": [
                    {
                        "key": f.key,
                        "label": f.label,
                        "required": f.required,
                        "default": f.default,
                        "secret": f.secret,
                        "advanced": f.advanced,
                        "choices": f.choices,
                        "pattern": f.pattern,
                        "help": f.help,
                    }
                    for f in method.fields
                ],
                "token": method.token.model_dump(),
                "defaults": method.defaults,
                "base_url": method.base_url,
            }
            for method in connector.auth_methods
        ],
    }


__all__ = ["Connector", "ConnectorError", "describe", "get", "list_connectors"]
