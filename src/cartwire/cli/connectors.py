"""`cartwire connectors list|show`: what each connector asks for and how it authenticates."""

from typing import TYPE_CHECKING, Annotated

import typer

from cartwire.cli.common import USAGE, JsonOption, emit_json, fail, out
from cartwire.cli.tables import Column, WideOption, print_table

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, help="Connectors: the platforms cartwire can talk to.")


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """The installed connectors."""
    from cartwire.services import connectors as catalogue

    try:
        found = catalogue.list_connectors()
    except catalogue.ConnectorError as exc:
        raise fail(str(exc), USAGE) from None
    if as_json:
        emit_json([{"name": c.name, "title": c.title, "description": c.description} for c in found])
        return
    print_table(
        (
            Column("name"),
            Column("title", priority=2, give="wrap"),
            Column("auth methods", priority=3, give="wrap"),
            Column("description", priority=1, give="wrap"),
        ),
        [
            [c.name, c.title, ", ".join(m.name for m in c.auth_methods), c.description]
            for c in found
        ],
        wide=wide,
    )


FIELD_COLUMNS = (
    Column("key"),
    Column("label", priority=1, give="wrap"),
    Column("required", priority=2),
    Column("default", priority=3, give="fold", shortest=16),
    Column("secret", priority=2),
    Column("help", priority=1, give="wrap"),
)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. commercetools.")],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """A connector's auth methods, credential fields and URLs."""
    from cartwire.services import connectors as catalogue

    try:
        connector = catalogue.get(name)
    except catalogue.ConnectorError as exc:
        raise fail(str(exc), USAGE) from None
    if as_json:
        emit_json(catalogue.describe(connector))
        return
    out.print(f"[bold]{connector.title}[/bold] ({connector.name}): {connector.description}")
    out.print("API docs: " + ", ".join(str(u) for u in connector.docs))
    for method in connector.auth_methods:
        out.print(f"\n[bold]{method.name}[/bold] ({method.key})")
        print_table(
            FIELD_COLUMNS,
            [
                [
                    f.key,
                    f"{f.label} (advanced)" if f.advanced else f.label,
                    "yes" if f.required else "",
                    f.default or "",
                    "yes" if f.secret else "",
                    f.help,
                ]
                for f in method.fields
            ],
            wide=wide,
        )
        out.print(
            f"token: POST {method.token.url} (client auth: {method.token.client_auth}, "
            f"parameters as {method.token.params_in}, token key {method.token.token_key})"
        )
        out.print(f"API base URL: {method.base_url}")
