"""`cartwire instances …`: add, inspect, test, change and remove connector instances."""

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cartwire.cli.common import (
    FAILED,
    USAGE,
    JsonOption,
    emit_json,
    err,
    errors_as_messages,
    fail,
    out,
    services,
)
from cartwire.cli.tables import KEY_VALUE, Column, WideOption, print_table
from cartwire.logs import register_secret

if TYPE_CHECKING:
    from cartwire.services.instances import (
        AuthMethod,
        InstanceView,
        Question,
        Settings,
    )

app = typer.Typer(no_args_is_help=True, help="Connector instances: one account's credentials.")

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="KEY=VALUE for a credential field (repeatable)."),
]
SetEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set-env",
        help="KEY=ENV_VAR: read a field (e.g. a secret) from an environment variable.",
    ),
]
StdinOption = Annotated[
    str | None, typer.Option("--stdin", help="KEY: read this field from the first line of stdin.")
]
TimezoneOption = Annotated[str | None, typer.Option(help="IANA time zone for date filters.")]
AmountOption = Annotated[
    int | None, typer.Option(help="Rate limit: requests per unit (over it, requests wait).")
]
UnitOption = Annotated[str | None, typer.Option(help="Rate limit unit: second|minute|hour|day.")]
PoolOption = Annotated[
    str | None, typer.Option(help="Named concurrency pool shared with other instances.")
]
NoTestOption = Annotated[
    bool, typer.Option("--no-test", help="Save without fetching a token first.")
]


def _problems(exc: Exception) -> typer.Exit:
    from cartwire.services.errors import InvalidFields

    assert isinstance(exc, InvalidFields)
    for problem in exc.problems:
        err.print(f"[red]error:[/red] {problem}", soft_wrap=True)
    return typer.Exit(USAGE)


def _rejected(exc: Exception) -> typer.Exit:
    from cartwire.services.errors import CredentialsRejected

    assert isinstance(exc, CredentialsRejected)
    return fail(f"the credentials were not saved: {exc.result.status}: {exc.result.reason}", FAILED)


def handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.sandbox.processes import SandboxError
    from cartwire.services import errors

    return {
        errors.InvalidFields: _problems,
        errors.CredentialsRejected: _rejected,
        errors.ConnectorError: lambda exc: fail(str(exc), USAGE),
        errors.InstanceNotFound: lambda exc: fail(str(exc), USAGE),
        errors.InstanceInUse: lambda exc: fail(str(exc), USAGE),
        errors.NoSandbox: lambda exc: fail(str(exc), USAGE),
        SandboxError: lambda exc: fail(str(exc), FAILED),
        errors.InstanceExists: lambda exc: fail(
            f"{exc}; choose another name or use `cartwire instances update`",
            USAGE,
        ),
    }


def describe(view: "InstanceView") -> dict[str, Any]:
    return {
        "name": view.name,
        "connector": view.connector,
        "auth_method": view.auth_method,
        "fields": view.fields,
        "timezone": view.timezone,
        "rate_limit": view.rate_limit.model_dump() if view.rate_limit else None,
        "pool": view.pool,
        "created_at": view.created_at.isoformat() if view.created_at else None,
        "updated_at": view.updated_at.isoformat() if view.updated_at else None,
    }


def _pairs(option: str, items: list[str] | None) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _usage(option, f"expected KEY=VALUE, got {item.split('=')[0]!r}")
        pairs[key.strip()] = value
    return pairs


def _usage(option: str, message: str) -> Exception:
    from cartwire.services.errors import FieldProblem, InvalidFields

    return InvalidFields([FieldProblem(option, option, message)])


def gather(
    method: "AuthMethod | None",
    sets: list[str] | None,
    set_envs: list[str] | None,
    stdin_key: str | None,
) -> dict[str, str]:
    """Field values from --set, --set-env and --stdin (the last two keep secrets out of shell
    history and process listings)."""
    values = _pairs("--set", sets)
    for key, variable in _pairs("--set-env", set_envs).items():
        if variable not in os.environ:
            raise _usage("--set-env", f"environment variable {variable} is not set")
        values[key] = os.environ[variable]
    if stdin_key:
        line = sys.stdin.readline()
        if not line:
            raise _usage("--stdin", f"stdin was empty; expected {stdin_key}")
        values[stdin_key] = line.rstrip("\r\n")
    if method is not None:
        for field in method.fields:
            if field.secret and values.get(field.key):
                register_secret(values[field.key])
    return values


class Console:
    """The wizard's terminal: questions and messages on stderr, so `--json` output stays clean."""

    def ask(self, question: "Question") -> str:
        field = question.field
        err.print(
            f"[bold]{escape(field.label)}[/bold] ({field.key}): {escape(field.help)}",
            soft_wrap=True,
        )
        answer = typer.prompt(
            question.prompt,
            default=question.default or "",
            hide_input=field.secret,
            show_default=bool(question.default) and not field.secret,
            err=True,
        )
        return str(answer)

    def confirm(self, text: str) -> bool:
        return typer.confirm(text, default=False, err=True)

    def say(self, text: str) -> None:
        err.print(text, markup=False, soft_wrap=True)


def _settings(
    current: "InstanceView | None",
    timezone: str | None,
    amount: int | None,
    unit: str | None,
    pool: str | None,
) -> "Settings":
    from cartwire.services.instances import Settings

    base = current.settings if current else Settings()
    return Settings(
        timezone=timezone or base.timezone,
        rate_limit_amount=amount if amount is not None else base.rate_limit_amount,
        rate_limit_unit=unit if unit is not None else base.rate_limit_unit,
        pool=pool if pool is not None else base.pool,
    )


@app.command()
def add(
    connector: Annotated[str, typer.Argument(help="Connector name, e.g. commercetools.")],
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. ct-production.")],
    sets: SetOption = None,
    set_envs: SetEnvOption = None,
    stdin_key: StdinOption = None,
    auth_method: Annotated[str | None, typer.Option(help="Auth method key.")] = None,
    timezone: TimezoneOption = None,
    rate_limit_amount: AmountOption = None,
    rate_limit_unit: UnitOption = None,
    pool: PoolOption = None,
    advanced: Annotated[
        bool,
        typer.Option(
            help="Also ask for the advanced fields (auth_url, api_url: another host, a proxy) "
            "and for the fields that allow only one value."
        ),
    ] = False,
    sandbox: Annotated[
        bool,
        typer.Option(
            help="Fill in the URLs and credentials of the running sandbox (`cartwire sandbox "
            "up`) instead of asking for them."
        ),
    ] = False,
    no_test: NoTestOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add an instance: ask for the missing fields (at a terminal), test by fetching a token, save.

    At a terminal each answer is checked as it is typed, and a failed test asks again for the
    secret (or the URLs). The URLs default to the platform's public hosts: for a local sandbox
    use --sandbox (or take the wizard's offer when one is running); for another host use
    --advanced or --set auth_url=… --set api_url=….
    """
    with errors_as_messages(handlers):
        from cartwire.services.instances import Request

        instances = services().instances
        method = instances.auth_method(connector, auth_method)
        values = gather(method, sets, set_envs, stdin_key)
        settings = _settings(None, timezone, rate_limit_amount, rate_limit_unit, pool)
        if sys.stdin.isatty():
            request = Request(connector, name, values, settings, auth_method, not no_test, sandbox)
            record = instances.add_asking(request, Console(), advanced=advanced)
        else:
            record = instances.add(
                connector,
                name,
                values,
                settings,
                test=not no_test,
                auth_method=auth_method,
                sandbox=sandbox,
            )
    if as_json:
        emit_json({**describe(record), "tested": not no_test})
    else:
        tested = "not tested (--no-test)" if no_test else "credentials tested: a token was issued"
        out.print(f"added instance [bold]{record.name}[/bold] ({record.connector}); {tested}")


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """All instances (secrets masked)."""
    records = services().instances.all()
    if as_json:
        emit_json([describe(r) for r in records])
        return
    rows = [
        [
            r.name,
            r.connector,
            r.timezone,
            f"{r.rate_limit.amount}/{r.rate_limit.unit}" if r.rate_limit else "",
            r.pool or "",
        ]
        for r in records
    ]
    print_table(INSTANCE_COLUMNS, rows, wide=wide)


INSTANCE_COLUMNS = (
    Column("name", give="shorten", shortest=16),
    Column("connector", priority=1, give="shorten"),
    Column("timezone", priority=3, give="fold"),
    Column("rate limit", priority=2, give="wrap"),
    Column("pool", priority=2, give="shorten"),
)


@app.command()
def show(name: str, as_json: JsonOption = False) -> None:
    """One instance, secrets shown as •••• plus at most their last 4 characters."""
    with errors_as_messages(handlers):
        document = describe(services().instances.get(name))
    if as_json:
        emit_json(document)
        return
    rows: list[list[str]] = []
    for key, value in document.items():
        if key == "fields":
            rows += [[field, shown] for field, shown in value.items()]
        elif key != "name":
            rows.append([key, "" if value is None else str(value)])
    print_table(KEY_VALUE, rows, title=name, header=False)


@app.command("test")
def test_instance(name: str, as_json: JsonOption = False) -> None:
    """Fetch a fresh token: operational, unreachable or failed authentication."""
    with errors_as_messages(handlers):
        result = services().instances.test(name)
    if as_json:
        emit_json(result.model_dump())
    else:
        colour = "green" if result.ok else "red"
        out.print(f"[{colour}]{result.status}[/{colour}]: {result.reason}", soft_wrap=True)
        if result.ok and result.lifetime_seconds is not None:
            out.print(
                f"granted scope: {result.scope or '(none)'}; token lifetime "
                f"{result.lifetime_seconds} s"
            )
        if result.note:
            out.print(f"note: {result.note}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(FAILED)


@app.command()
def update(
    name: str,
    sets: SetOption = None,
    set_envs: SetEnvOption = None,
    stdin_key: StdinOption = None,
    timezone: TimezoneOption = None,
    rate_limit_amount: AmountOption = None,
    rate_limit_unit: UnitOption = None,
    pool: PoolOption = None,
    no_test: NoTestOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change fields or settings; new credentials are tested and only saved if they work."""
    with errors_as_messages(handlers):
        instances = services().instances
        current = instances.get(name)
        method = instances.auth_method(current.connector, current.auth_method)
        values = gather(method, sets, set_envs, stdin_key)
        settings = _settings(current, timezone, rate_limit_amount, rate_limit_unit, pool)
        record = instances.update(name, values, settings, test=not no_test)
    if as_json:
        emit_json(describe(record))
    else:
        out.print(f"updated instance [bold]{name}[/bold]")


@app.command()
def remove(
    name: str,
    force: Annotated[bool, typer.Option(help="Remove even if flows are bound to it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove an instance and its cached tokens (refused while a flow is bound to it)."""
    with errors_as_messages(handlers):
        services().instances.remove(name, force=force)
    if as_json:
        emit_json({"removed": name})
    else:
        out.print(f"removed instance [bold]{name}[/bold]")
