"""`cartwire serve`: the HTTP API, the web UI and the webhook receiver in one process.

Loopback by default: serving other hosts is a choice made with `--host`, ideally behind a
proxy that terminates TLS (the session cookie is then marked Secure). A first start with no
user says how to create one; there is no default password.
"""

import sys
from typing import Annotated

import typer

from cartwire.cli.common import FAILED, errors_as_messages, fail, services

HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
GraceOption = Annotated[
    float, typer.Option(min=0, help="On shutdown, seconds in all to let runs finish their page.")
]


def run_server(host: str, port: int, grace: float, *, announce: str) -> None:
    """Open the store (a bad database URL fails here, with its reason) and serve until
    SIGINT/SIGTERM."""
    import uvicorn  # only the serving commands need the server

    from cartwire.api.app import create_app
    from cartwire.services import errors

    context = services()
    with errors_as_messages(lambda: {errors.StoreError: lambda exc: fail(str(exc), FAILED)}):
        store = context.store
        first_user_missing = not context.access.has_users()
    application = create_app(store, grace=grace)
    print(announce.format(url=f"http://{host}:{port}"), file=sys.stderr)
    if first_user_missing:
        print(
            "no user can log in to the web UI yet: create the first with "
            "`cartwire users add NAME --role admin` (API clients: `cartwire apikeys create`)",
            file=sys.stderr,
        )
    sys.stderr.flush()
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        proxy_headers=True,
    )


def serve(
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    grace: GraceOption = 30.0,
) -> None:
    """Serve the HTTP API (/api/v1, docs at /docs), the web UI and webhooks (/webhooks/FLOW)."""
    run_server(host, port, grace, announce="serving cartwire at {url} (API docs: {url}/docs)")
