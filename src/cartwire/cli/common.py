"""What every command shares: consoles, `--json`, and turning known errors into one clear line
and a non-zero exit instead of a traceback (which could quote a secret)."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

USAGE = 2  # bad input: fix the command
FAILED = 1  # the command ran and the thing it checked failed


def fail(message: str, code: int = FAILED) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def emit_json(document: Any) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False, default=str))


@contextmanager
def errors_as_messages(
    handlers: dict[type[Exception], Callable[[Exception], typer.Exit]],
) -> Iterator[None]:
    """Map the exception types a command expects to clean exits; anything else still raises."""
    try:
        yield
    except tuple(handlers) as exc:
        for kind, handle in handlers.items():
            if isinstance(exc, kind):
                raise handle(exc) from None
        raise
