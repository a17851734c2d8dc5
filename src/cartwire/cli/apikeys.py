"""`cartwire apikeys create|list|revoke`: the keys that HTTP API clients authenticate with.

A key is printed once, on stdout, when it is created (so `KEY=$(cartwire apikeys create …)`
captures it) and never again: only its digest is stored. Lists show the key's first characters
to tell keys apart.
"""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cartwire.cli.common import (
    JsonOption,
    emit_json,
    errors_as_messages,
    input_errors,
    iso,
    out,
    services,
    timestamp,
)
from cartwire.cli.tables import Column, WideOption, print_table
from cartwire.logs import register_secret

if TYPE_CHECKING:
    from cartwire.services.access import ApiKeyView

app = typer.Typer(no_args_is_help=True, help="API keys for the HTTP API (admin, manager, …).")

ROLE_HELP = "admin, manager, user or read-only."
RoleOption = Annotated[str, typer.Option("--role", help=ROLE_HELP)]


def describe(view: "ApiKeyView") -> dict[str, Any]:
    return {
        "name": view.name,
        "role": view.role,
        "prefix": view.prefix,
        "created_at": iso(view.created_at),
        "last_used_at": iso(view.last_used_at),
        "revoked_at": iso(view.revoked_at),
    }


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. ci-deploy.")],
    role: RoleOption,
    as_json: JsonOption = False,
) -> None:
    """Make a key and print it ONCE (stdout); only its digest is stored."""
    options = {"name": "--name", "role": "--role"}
    with errors_as_messages(input_errors(options)), services() as service:
        created = service.access.create_key(name, role)
    register_secret(created.key)
    view = created.api_key
    if as_json:
        emit_json(
            {
                "name": view.name,
                "role": view.role,
                "prefix": view.prefix,
                "key": created.key,
                "created_at": iso(view.created_at),
            }
        )
    else:
        out.print(created.key, markup=False)
    sys.stdout.flush()
    print(
        f"API key {view.name} ({view.role}) created; shown once, stored hashed: keep it now",
        file=sys.stderr,
    )


KEY_COLUMNS = (
    Column("name", give="shorten", shortest=16),
    Column("role"),
    Column("prefix", priority=2),
    Column("created", priority=3, give="wrap"),
    Column("last used", priority=1, give="wrap"),
    Column("revoked", priority=1, give="wrap"),
)


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Every key, revoked ones included (the keys themselves are never shown)."""
    with errors_as_messages(input_errors()), services() as service:
        keys = service.access.keys()
    if as_json:
        emit_json([describe(key) for key in keys])
        return
    rows = [
        [
            key.name,
            key.role,
            key.prefix,
            timestamp(key.created_at),
            timestamp(key.last_used_at),
            timestamp(key.revoked_at),
        ]
        for key in keys
    ]
    print_table(KEY_COLUMNS, rows, wide=wide)


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")], as_json: JsonOption = False
) -> None:
    """Refuse the key from now on; it stays listed, with its name taken."""
    with errors_as_messages(input_errors()), services() as service:
        view = service.access.revoke(name)
    if as_json:
        emit_json(describe(view))
    else:
        out.print(f"revoked API key {view.name} ({view.role})", markup=False)
