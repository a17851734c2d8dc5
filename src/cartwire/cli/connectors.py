"""`cartwire connectors list|show`: what each connector asks for and how it authenticates."""

from typing import Annotated, Any

import typer
from rich.table import Table

from cartwire.cli.common import USAGE, JsonOption, emit_json, fail, out
from cartwire.connectors import Connector, ConnectorError, connectors, get_connector

app = typer.Typer(no_args_is_help=True, help="Connectors: the platforms cartwire can talk to.")


def describe(connector: Connector) -> dict[str, Any]:
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


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The installed connectors."""
    try:
        found = connectors()
    except ConnectorError as exc:
        raise fail(str(exc), USAGE) from None
    if as_json:
        emit_json(
            [
                {"name": c.name, "title": c.title, "description": c.description}
                for c in found.values()
            ]
        )
        return
    table = Table("name", "title", "auth methods", "description")
    for c in found.values():
        table.add_row(c.name, c.title, ", ".join(m.name for m in c.auth_methods), c.description)
    out.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. commercetools.")],
    as_json: JsonOption = False,
) -> None:
    """A connector's auth methods, credential fields and URLs."""
    try:
        connector = get_connector(name)
    except ConnectorError as exc:
        raise fail(str(exc), USAGE) from None
    if as_json:
        emit_json(describe(connector))
        return
    out.print(f"[bold]{connector.title}[/bold] ({connector.name}): {connector.description}")
    out.print("API docs: " + ", ".join(str(u) for u in connector.docs))
    for method in connector.auth_methods:
        out.print(f"\n[bold]{method.name}[/bold] ({method.key})")
        table = Table("key", "label", "required", "default", "secret", "help")
        for f in method.fields:
            label = f"{f.label} (advanced)" if f.advanced else f.label
            table.add_row(
                f.key,
                label,
                "yes" if f.required else "",
                f.default or "",
                "yes" if f.secret else "",
                f.help,
            )
        out.print(table)
        out.print(
            f"token: POST {method.token.url} (client auth: {method.token.client_auth}, "
            f"parameters as {method.token.params_in}, token key {method.token.token_key})"
        )
        out.print(f"API base URL: {method.base_url}")
