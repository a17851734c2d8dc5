"""What every command shares: consoles, `--json`, and turning known errors into one clear line
and a non-zero exit instead of a traceback (which could quote a secret)."""

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cartwire.logs import RedactingFilter

if TYPE_CHECKING:
    from cartwire.services.context import Services

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

USAGE = 2  # bad input: fix the command
FAILED = 1  # the command ran and the thing it checked failed
INTERRUPTED = 130  # Ctrl-C, as shells report a program ended by SIGINT


def clock(seconds: float) -> str:
    """A duration as `m:ss`, or `h:mm:ss` from an hour on."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def timestamp(moment: datetime | None) -> str:
    """A time in a table: to the second, UTC as stored; blank for none."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def iso(moment: datetime | None) -> str | None:
    """A time in a JSON document: ISO 8601 as stored (UTC); null for none."""
    return moment.isoformat() if moment else None


def fail(message: str, code: int = FAILED) -> typer.Exit:
    # Escaped: a message quoting `page[size]` or `filter[q][…]` is text, not console markup.
    err.print(f"[red]error:[/red] {escape(message)}", markup=True, soft_wrap=True)
    return typer.Exit(code)


class _WarningsShown(logging.Handler):
    """A warning the person running the command must act on (e.g. a connector file's paging
    asking for a page size the server does not serve), printed where errors go; the log file
    keeps it too."""

    def emit(self, record: logging.LogRecord) -> None:
        text = escape(self.format(record))
        err.print(f"[yellow]warning:[/yellow] {text}", markup=True, soft_wrap=True)


def show_warnings(logger: str) -> None:
    """Print the warnings of `logger` on stderr as well (once per process)."""
    target = logging.getLogger(logger)
    if not any(isinstance(h, _WarningsShown) for h in target.handlers):
        shown = _WarningsShown(logging.WARNING)
        shown.addFilter(RedactingFilter())
        target.addHandler(shown)


def emit_json(document: Any) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False, default=str))


Handlers = dict[type[Exception], Callable[[Exception], typer.Exit]]


@contextmanager
def errors_as_messages(handlers: Callable[[], Handlers]) -> Iterator[None]:
    """Map the exception types a command expects to clean exits; anything else still raises.

    `handlers` is called only once something was raised, so the engine's exception types (and
    the engine with them) are imported only when there is an error to name."""
    try:
        yield
    except Exception as exc:
        for kind, handle in handlers().items():
            if isinstance(exc, kind):
                raise handle(exc) from None
        raise


def input_errors(labels: Mapping[str, str] | None = None) -> Callable[[], Handlers]:
    """The errors of a command that hands what it was given to a service to check: input the
    service refuses (`InputRefused`) is a usage error naming each field as the command spells
    it (`labels`: the service's field → the option, e.g. role → --role; unnamed ones as the
    service names them); a store that cannot be read fails the command."""

    def refused(exc: Exception) -> typer.Exit:
        from cartwire.services.errors import InputRefused

        assert isinstance(exc, InputRefused)
        named = (f"{(labels or {}).get(field, field)}: {rule}" for field, rule in exc.refused)
        return fail("; ".join(named), USAGE)

    def made() -> Handlers:
        from cartwire.services import errors

        return {
            errors.InputRefused: refused,
            errors.StoreError: lambda exc: fail(str(exc), FAILED),
        }

    return made


def services() -> "Services":
    """The service layer, loaded when a command first needs it: `--help` and the commands that
    only read files never import the store or the HTTP stack."""
    from cartwire.services.context import Services

    return Services()
