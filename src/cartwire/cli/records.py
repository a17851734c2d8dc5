"""`cartwire get`, `cartwire send` and `cartwire endpoints`: records in and out from the shell.

Records go to stdout (or come from stdin) and everything meant for a person goes to stderr: a
progress bar while a terminal is watching, then a one-line summary. Bad input (unknown instance,
endpoint or filter, an unreadable time, an invalid JSON line) is one line naming what was wrong
and exit code 2, checked before any record is read or written; a failure on the way is one line
and exit code 1. A read that cannot finish never looks finished: a `--format json` array is left
unclosed and the exit code says so.
"""

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from cartwire.cli.common import FAILED, USAGE, JsonOption, emit_json, err, fail, services
from cartwire.cli.formats import FORMATS, RecordWriter
from cartwire.cli.tables import Column, WideOption, print_table

if TYPE_CHECKING:
    from cartwire.services.connectors import Connector
    from cartwire.services.records import Filters, Platform, WriteResult

InstanceArg = Annotated[str, typer.Argument(help="Instance name (see `cartwire instances list`).")]
EndpointArg = Annotated[
    str, typer.Argument(help="Endpoint name (see `cartwire endpoints INSTANCE`).")
]


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s")


def _progress(unit: str, *extra: str) -> Progress:
    """Records, pages (or other counters), rate and ETA (shown when the total is known); drawn
    only on a terminal, so redirected stderr holds just the summary."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        *(TextColumn(f"{{task.fields[{name}]}} {name}") for name in extra),
        _Rate(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )


def _stop(message: str, code: int) -> NoReturn:
    raise fail(message, code)


@contextmanager
def _failures_as_messages() -> Iterator[None]:
    """What can go wrong once records flow: one line and exit code 1, never a traceback."""
    from cartwire.services.errors import ApiError, AuthError, IncompleteRead, StoreError

    try:
        yield
    except (ApiError, AuthError, IncompleteRead, StoreError) as exc:
        message = str(exc)
    else:
        return
    _stop(message, FAILED)  # outside the `except`, so nothing is chained


def _open(instance: str) -> "Platform":
    from cartwire.services.errors import ConnectorError, InstanceNotFound, StoreError

    try:
        return services().records.open(instance)
    except InstanceNotFound:
        _stop(f"no instance named {instance!r}; see `cartwire instances list`", USAGE)
    except (ConnectorError, StoreError) as exc:
        _stop(str(exc), USAGE)


def _endpoint_checked(platform: "Platform", endpoint: str) -> None:
    try:
        platform.endpoint(endpoint)
    except KeyError as exc:
        _stop(str(exc.args[0]), USAGE)


def parse_filters(items: list[str]) -> "Filters":
    """`KEY=VALUE` options, in order; a key given twice keeps both values."""
    filters: Filters = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            _stop(
                f"--filter {item!r}: expected KEY=VALUE, e.g. --filter 'where=key = \"x\"'", USAGE
            )
        filters.setdefault(key.strip(), []).append(value)
    return filters


def parse_since(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is in the instance's time zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        _stop(
            f"--since {text!r} is not an ISO 8601 time; e.g. 2024-05-01 or 2024-05-01T12:00:00Z",
            USAGE,
        )
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def _summary(platform: "Platform", started: float, text: str) -> None:
    stats = platform.api.stats
    seconds = time.monotonic() - started
    retries = f"{stats.retries} retr{'y' if stats.retries == 1 else 'ies'}"
    err.print(f"{text}: {stats.sent} request(s), {retries}, {seconds:.1f} s", soft_wrap=True)


def _quiet_broken_pipe() -> NoReturn:
    """The reader downstream stopped (`| head`): stop too, without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(0)


def get(
    instance: InstanceArg,
    endpoint: EndpointArg,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="KEY=VALUE for one of the endpoint's filters (repeatable), e.g. "
            "'where=key = \"shirt\"' (commercetools) or q.code_start=SKU (Commerce Layer).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only records changed since this ISO time (instance's time zone)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after N records.")] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="jsonl (one record a line), json (one array) or csv (columns: the flattened "
            "keys of the first page of records, nested keys dotted, lists as JSON).",
        ),
    ] = "jsonl",
) -> None:
    """Read every record of an endpoint to stdout, as it arrives."""
    if format_ not in FORMATS:
        _stop(f"--format {format_!r}: expected one of {', '.join(FORMATS)}", USAGE)
    filters = parse_filters(filter_ or [])
    with _open(instance) as platform:
        _endpoint_checked(platform, endpoint)
        when = parse_since(since, ZoneInfo(platform.record.timezone)) if since else None
        try:
            pages = platform.pages(endpoint, filters=filters, since=when)
        except ValueError as exc:
            _stop(str(exc), USAGE)
        writer = RecordWriter(sys.stdout, format_)
        started = time.monotonic()
        try:
            with _failures_as_messages(), _progress("records", "pages") as progress:
                task = progress.add_task(f"{instance} {endpoint}", total=limit, pages=0)
                for page in pages:
                    records = page.records[: limit - writer.written] if limit else page.records
                    if page.total is not None:
                        total = min(page.total, limit) if limit else page.total
                        progress.update(task, total=total)
                    writer.write(records)
                    progress.update(task, advance=len(records), pages=page.number)
                    if limit and writer.written >= limit:
                        break
            writer.close()
        except BrokenPipeError:
            _quiet_broken_pipe()
        _summary(platform, started, f"{writer.written} record(s) from {instance} {endpoint}")


def _read_lines(source: IO[str]) -> tuple[IO[str], int]:
    """Check every line before anything is written, spooling them (to disk past 16 MB).

    Returns the spooled lines, rewound, and how many records they hold."""
    spool: IO[str] = tempfile.SpooledTemporaryFile(max_size=16 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115
    count = 0
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            spool.close()
            reason = getattr(exc, "msg", str(exc))
            _stop(f"line {number}: invalid JSON ({reason})", USAGE)
        if not isinstance(record, dict):
            spool.close()
            _stop(f"line {number}: expected a JSON object, got {type(record).__name__}", USAGE)
        spool.write(line if line.endswith("\n") else line + "\n")
        count += 1
    spool.seek(0)
    return spool, count


def _records(spool: IO[str]) -> Iterator[dict[str, Any]]:
    for line in spool:
        record: dict[str, Any] = json.loads(line)
        yield record


def _describe(result: "WriteResult") -> str:
    code = f"{result.code}: " if result.code else ""
    return f"{result.key or '(no key)'}: {code}{result.message or 'failed'}"


def send(
    instance: InstanceArg,
    endpoint: EndpointArg,
    file: Annotated[
        Path | None, typer.Option(help="JSON lines to send (default: stdin).", dir_okay=False)
    ] = None,
    upsert_key: Annotated[
        str | None,
        typer.Option(help="Field that matches records (default: the endpoint's natural key)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compare and report, but write nothing.")
    ] = False,
    replace: Annotated[
        list[str] | None,
        typer.Option(
            "--replace",
            metavar="FIELD",
            help="Send this top-level object field as given, replacing the destination's, "
            "instead of merging it in (repeatable).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create or update records from JSON lines, matched by natural key; unchanged records make
    no write. An object field (metadata, a localized name, custom fields) merges into the one
    the record already has, unless --replace names it. Exit code 1 if any record failed. A dry
    run tells each update's fields (old → new)."""
    if file is None and sys.stdin.isatty():
        _stop("give --file F, or pipe JSON lines to stdin", USAGE)
    for field in replace or []:
        if not field or "." in field or "[" in field:
            _stop(
                f"--replace {field!r}: expected a top-level field, e.g. --replace name "
                "(the whole object is replaced)",
                USAGE,
            )
    try:
        source = file.open(encoding="utf-8") if file else sys.stdin
    except OSError as exc:
        _stop(f"--file {file}: {exc.strerror}", USAGE)
    with source:
        spool, count = _read_lines(source)
    with spool, _open(instance) as platform:
        _endpoint_checked(platform, endpoint)
        try:
            results = platform.upsert(
                endpoint,
                _records(spool),
                upsert_key,
                dry_run=dry_run,
                replace=frozenset(replace or []),
            )
        except ValueError as exc:
            _stop(str(exc), USAGE)
        from cartwire.services.records import DryRunTally

        counts: Counter[str] = Counter()
        failures: list[WriteResult] = []
        planned = DryRunTally(endpoint)  # a dry run's, told once the progress bar is gone
        started = time.monotonic()
        with _failures_as_messages(), _progress("records") as progress:
            task = progress.add_task(f"{instance} {endpoint}", total=count)
            for result in results:
                counts[result.outcome] += 1
                if result.failed:
                    failures.append(result)
                if dry_run:
                    planned.add(result)
                progress.update(task, advance=1)
    # The four outcomes always, then any other a writer reported (deleted, skipped).
    usual = ("created", "updated", "unchanged", "failed")
    totals = {outcome: counts[outcome] for outcome in usual}
    totals.update((outcome, n) for outcome, n in sorted(counts.items()) if outcome not in usual)
    changes = planned.changes()
    for line in changes.lines:
        err.print(line, soft_wrap=True, markup=False, highlight=False)
    for failure in failures:
        err.print(f"[red]failed[/red] {_describe(failure)}", soft_wrap=True, markup=True)
    line = ", ".join(f"{n} {outcome}" for outcome, n in totals.items())
    _summary(platform, started, f"{instance} {endpoint}{' (dry run)' if dry_run else ''}: {line}")
    if as_json:
        emit_json(
            {
                **totals,
                "dry_run": dry_run,
                **({"changes": changes.entries} if dry_run else {}),
                "failures": [
                    {"key": f.key, "code": f.code, "message": f.message} for f in failures
                ],
            }
        )
    if failures:
        raise typer.Exit(FAILED)


def _connector_of(target: str) -> "Connector":
    """An instance's connector, or a connector by name."""
    from cartwire.services.errors import ConnectorError, StoreError

    try:
        with services() as service:
            return service.records.connector_of(target)
    except StoreError as exc:
        _stop(str(exc), FAILED)
    except ConnectorError:
        _stop(f"no instance or connector named {target!r}", USAGE)


def endpoints(
    target: Annotated[str, typer.Argument(help="An instance name or a connector name.")],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """The endpoints of a connector: direction, natural key, paging and filters."""
    connector = _connector_of(target)
    rows: list[dict[str, Any]] = [
        {
            "name": e.name,
            "entity": e.entity,
            "direction": e.direction,
            "natural_key": e.natural_key,
            "incremental": e.incremental is not None,
            "paging": e.paging.strategy if e.paging else None,
            "write": e.write.strategy if e.write else None,
            "filters": [{"key": f.key, "param": f.param, "help": f.help} for f in e.filters],
            "description": e.description,
        }
        for e in connector.endpoints
    ]
    if as_json:
        emit_json(rows)
        return
    print_table(
        (
            Column("endpoint", give="shorten", shortest=16),
            Column("direction", priority=2),
            Column("natural key", priority=1, give="wrap"),
            Column("--since", priority=3),
            Column("filters", priority=1, give="wrap"),
        ),
        [
            [
                row["name"],
                row["direction"],
                (row["natural_key"] or "").replace(",", ", "),
                "yes" if row["incremental"] else "",
                ", ".join(f["key"] for f in row["filters"]),
            ]
            for row in rows
        ],
        wide=wide,
        title=connector.title,
    )
