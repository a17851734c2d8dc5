"""`cartwire webhooks …`: the shared secret of a flow's webhooks, signed URLs, and the receiver.

The secret is stored encrypted with the flow binding and never printed, with one exception:
`--generate` prints the secret it made once, on stdout, since the sender has to be given it.
Commerce Layer makes its own shared secret (shown on the webhook it creates): copy that one in
with `--stdin` or `--set-env`.
"""

import os
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import typer

from cartwire.cli.common import (
    FAILED,
    USAGE,
    JsonOption,
    emit_json,
    errors_as_messages,
    fail,
    out,
    services,
)
from cartwire.cli.serve import GraceOption, HostOption, run_server

app = typer.Typer(no_args_is_help=True, help="Webhooks that start flows: secrets, URLs, server.")


def _handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services import errors
    from cartwire.services.webhooks import WebhookRefused

    return {
        errors.FlowNotFound: lambda exc: fail(str(exc), USAGE),
        errors.FlowInvalid: lambda exc: fail(f"invalid flow file: {exc}", USAGE),
        WebhookRefused: lambda exc: fail(str(exc), USAGE),
        errors.StoreError: lambda exc: fail(str(exc), FAILED),
    }


_TTL = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> timedelta:
    """`3600`, `90s`, `15m`, `12h` or `30d`."""
    found = _TTL.fullmatch(text.strip())
    if not found or int(found[1]) == 0:
        raise typer.BadParameter("use a positive number with s, m, h or d, e.g. 30d")
    return timedelta(seconds=int(found[1]) * _UNITS[found[2]])


def _secret_from(set_env: str | None, stdin: bool, generate: bool) -> tuple[str, bool]:
    """The secret, and whether it was generated here (and so must be shown once)."""
    from cartwire.services.webhooks import MIN_SECRET_LENGTH, generate_secret

    if sum((set_env is not None, stdin, generate)) != 1:
        raise fail("give exactly one of --set-env VAR, --stdin or --generate", USAGE)
    if generate:
        return generate_secret(), True
    if set_env is not None:
        if set_env not in os.environ:
            raise fail(f"environment variable {set_env} is not set", USAGE)
        value = os.environ[set_env]
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise fail(f"a webhook secret needs at least {MIN_SECRET_LENGTH} characters", USAGE)
    return value, False


@app.command()
def secret(
    flow: Annotated[str, typer.Argument(help="Flow name (its binding must exist).")],
    set_env: Annotated[
        str | None, typer.Option("--set-env", help="Read the secret from this variable.")
    ] = None,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the secret from the first line of stdin.")
    ] = False,
    generate: Annotated[
        bool,
        typer.Option("--generate", help="Make a random secret and print it ONCE (for the sender)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set the shared secret that a flow's webhooks are signed with (stored encrypted)."""
    value, generated = _secret_from(set_env, stdin, generate)
    with errors_as_messages(_handlers):
        services().webhooks.set_secret(flow, value)
    if as_json:
        emit_json({"flow": flow, "secret": value} if generated else {"flow": flow, "set": True})
    elif generated:
        out.print(value, markup=False)
        sys.stdout.flush()
        print(
            f"webhook secret of {flow} set; it is printed above once and never again",
            file=sys.stderr,
        )
    else:
        out.print(f"webhook secret of {flow} set")


@app.command()
def url(
    flow: Annotated[str, typer.Argument(help="Flow name with a signed_url webhook trigger.")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="Where `webhooks serve` is reachable.")
    ],
    ttl: Annotated[str, typer.Option(help="Valid for: 3600, 90m, 12h, 30d …")] = "30d",
    as_json: JsonOption = False,
) -> None:
    """Print a signed webhook URL for senders that cannot sign bodies (keep it secret)."""
    lifetime = parse_ttl(ttl)
    if not base_url.startswith(("http://", "https://")):
        raise fail("--base-url must start with http:// or https://", USAGE)
    with errors_as_messages(_handlers):
        name, made = services().webhooks.signed_url(flow, base_url, lifetime)
    if as_json:
        emit_json({"flow": name, "url": made, "ttl_seconds": int(lifetime.total_seconds())})
    else:
        out.print(made, markup=False, soft_wrap=True)


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8787,
    grace: GraceOption = 30.0,
) -> None:
    """Receive webhooks: POST /webhooks/FLOW starts FLOW with the payload as its records.
    The same server as `cartwire serve` (which also serves the API and the web UI)."""
    run_server(host, port, grace, announce="receiving webhooks at {url}/webhooks/FLOW")
