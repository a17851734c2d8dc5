"""The installed connectors, read from their files: nothing here opens the store (or imports
it), so `cartwire connectors list` stays light."""

from cartwire.connectors import Connector, ConnectorError, connectors, get_connector


def list_connectors() -> list[Connector]:
    return list(connectors().values())


def get(name: str) -> Connector:
    return get_connector(name)


__all__ = ["Connector", "ConnectorError", "get", "list_connectors"]
