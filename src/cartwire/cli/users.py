"""`cartwire users add|list|remove`: the people who sign in to the web UI.

The password is never an argument (it would sit in the shell's history and in `ps`): at a
terminal it is asked twice, hidden; otherwise it is the first line of stdin, for scripts.
"""

import sys
from typing import Annotated

import typer

from cartwire.cli.apikeys import RoleOption
from cartwire.cli.common import (
    USAGE,
    JsonOption,
    emit_json,
    errors_as_messages,
    fail,
    input_errors,
    iso,
    out,
    services,
    timestamp,
)
from cartwire.cli.tables import Column, WideOption, print_table
from cartwire.logs import register_secret

app = typer.Typer(no_args_is_help=True, help="Web UI users and their roles.")

NameArgument = Annotated[str, typer.Argument(help="The user's name, e.g. alice.")]


def _password() -> str:
    if sys.stdin.isatty():
        typed = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return str(typed)
    line = sys.stdin.readline()
    if not line:
        raise fail("no password on stdin: give it on the first line", USAGE)
    return line.rstrip("\r\n")


@app.command()
def add(name: NameArgument, role: RoleOption) -> None:
    """Add a user; the password is asked twice (hidden), or read from stdin's first line."""
    with errors_as_messages(input_errors({"role": "--role"})):
        from cartwire.services.access import check_name, parse_role

        check_name(name)  # before asking for a password the command would then refuse
        parse_role(role)
        password = _password()
        register_secret(password)
        with services() as service:
            user = service.access.add_user(name, role, password)
    out.print(f"added user {user.name} ({user.role})", markup=False)


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Every user with their role."""
    with errors_as_messages(input_errors()), services() as service:
        users = service.access.users()
    if as_json:
        emit_json(
            [
                {
                    "name": user.name,
                    "role": user.role,
                    "created_at": iso(user.created_at),
                    "disabled": user.disabled,
                }
                for user in users
            ]
        )
        return
    print_table(
        (
            Column("name", give="shorten", shortest=16),
            Column("role"),
            Column("created", priority=2, give="wrap"),
            Column("disabled", priority=1),
        ),
        [
            [user.name, user.role, timestamp(user.created_at), "yes" if user.disabled else ""]
            for user in users
        ],
        wide=wide,
    )


@app.command()
def remove(name: NameArgument) -> None:
    """Remove a user; their web UI sessions end with them."""
    with errors_as_messages(input_errors()), services() as service:
        service.access.remove_user(name)
    out.print(f"removed user {name}; their sessions have ended", markup=False)
