"""`cartwire secrets rotate`: re-encrypt every stored secret under a new key."""

from typing import Annotated

import typer

from cartwire.cli.common import JsonOption, emit_json, out, services

app = typer.Typer(no_args_is_help=True, help="The key that encrypts secrets at rest.")


@app.command()
def rotate(
    new_key: Annotated[
        str | None,
        typer.Option(
            envvar="CARTWIRE_NEW_SECRET_KEY",
            help="Only when the key comes from CARTWIRE_SECRET_KEY: the new Fernet key "
            "(afterwards set CARTWIRE_SECRET_KEY to it).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a new key and re-encrypt everything; safe to interrupt and run again."""
    with services() as service:
        count = service.rotate_secrets(new_key.encode() if new_key else None)
    if as_json:
        emit_json({"reencrypted": count})
    else:
        out.print(f"re-encrypted {count} secret value(s) under the new key")
