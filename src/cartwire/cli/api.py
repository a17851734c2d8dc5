"""`cartwire api INSTANCE PATH`: one authenticated request, like `gh api`, for exploring a
platform and for scripts. The token is cached across calls, so repeated calls reuse it."""

import json
from typing import Annotated

import typer

from cartwire.cli.common import FAILED, USAGE, Handlers, err, errors_as_messages, fail, services


def _handlers() -> Handlers:
    import httpx  # the request's own errors, caught as they are

    from cartwire.services.errors import AuthError, InstanceNotFound

    return {
        InstanceNotFound: lambda exc: fail(str(exc), USAGE),
        AuthError: lambda exc: fail(str(exc), FAILED),
        httpx.TransportError: lambda exc: fail(f"{type(exc).__name__}: {exc}", FAILED),
    }


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
    with errors_as_messages(_handlers), services().connect(instance) as client:
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
