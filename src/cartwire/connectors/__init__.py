"""Connectors as data: one YAML file per platform, validated by `schema`."""

from cartwire.connectors.registry import ConnectorError, connectors, get_connector
from cartwire.connectors.schema import AuthMethod, Connector, CredentialField, TokenRequest

__all__ = [
    "AuthMethod",
    "Connector",
    "ConnectorError",
    "CredentialField",
    "TokenRequest",
    "connectors",
    "get_connector",
]
