"""`cartwire api INSTANCE PATH`: one authenticated request, like `gh api`, for exploring a
platform and for scripts. The token is cached across calls, so repeated calls reuse it."""

import json
from typing import Annotated

import httpx
import typer

from cartwire.auth import AuthError
from cartwire.cli.common import FAILED, USAGE, err, errors_as_messages, fail
from cartwire.instances import connect
from cartwire.store import InstanceNotFound


def api(
    instance: Annotated[str, typer.Argument(help="Instance name.")],
    path: Annotated[str, typer.Argument(help="Path under the instance's API base URL.")],
    method: Annotated[str, typer.Option("--method", "-X", help="HTTP method.")] = "GET",
    data: Annotated[str | None, typer.Option(help="JSON request body.")] = None,
    content_type: Annotated[
        str, typer.Option(help="Content-Type of the body.")
    ] = "application/json",
) -> None:
    """Send one request with the instance's credentials and print the JSON answer."""
    handlers = {
        InstanceNotFound: lambda exc: fail(str(exc), USAGE),
        AuthError: lambda exc: fail(str(exc), FAILED),
        httpx.TransportError: lambda exc: fail(f"{type(exc).__name__}: {exc}", FAILED),
    }
    with errors_as_messages(handlers), connect(instance) as client:
        headers = {"Content-Type": content_type} if data is not None else {}
        response = client.request(method.upper(), path.lstrip("/"), content=data, headers=headers)
    try:
        body = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        body = response.text
    if response.is_error:
        err.print(f"{response.status_code} {response.reason_phrase}", highlight=False)
        print(body)
        raise typer.Exit(FAILED)
    print(body)
