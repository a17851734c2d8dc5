"""`cartwire flows …` and `cartwire runs …`: validate, run, resume and inspect flows."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cartwire.cli.common import (
    FAILED,
    INTERRUPTED,
    USAGE,
    JsonOption,
    clock,
    emit_json,
    err,
    errors_as_messages,
    fail,
    out,
    services,
    timestamp,
)
from cartwire.cli.progress import DRY_RUN_COUNTS, progress_bar
from cartwire.cli.tables import Column, WideOption, print_table

if TYPE_CHECKING:
    from cartwire.services.context import Services
    from cartwire.services.runs import DryRunChanges, FailureGroupView, RunView
    from cartwire.services.validation import FlowValidation

app = typer.Typer(no_args_is_help=True, help="Flows: declared syncs between instances.")
runs_app = typer.Typer(no_args_is_help=True, help="Runs of flows: history, stop, resume, retry.")

COUNT_KEYS = ("read", "created", "updated", "unchanged", "skipped", "failed")
SUMMARY_GROUPS = 5  # failure reasons a run's summary lists


def _invalid(exc: Exception) -> typer.Exit:
    for problem in getattr(exc, "problems", []):  # FlowInvalid's
        err.print(f"[red]error:[/red] {problem}", soft_wrap=True)
    return typer.Exit(USAGE)


def handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services import errors

    return {
        errors.QueueUnavailable: lambda exc: fail(str(exc), FAILED),
        errors.FlowInvalid: _invalid,
        errors.FlowNotFound: lambda exc: fail(str(exc), USAGE),
        errors.FlowError: lambda exc: fail(str(exc), USAGE),
        errors.InstanceNotFound: lambda exc: fail(str(exc), USAGE),
        errors.StoreError: lambda exc: fail(str(exc), FAILED),
        errors.ApiError: lambda exc: fail(str(exc), FAILED),
        errors.AuthError: lambda exc: fail(str(exc), FAILED),
        errors.IncompleteRead: lambda exc: fail(str(exc), FAILED),
    }


def run_document(run: "RunView") -> dict[str, Any]:
    return {
        "run_id": run.id,
        "flow": run.flow,
        "version": run.flow_version,
        "trigger": run.trigger,
        "source": run.source,
        "destination": run.destination,
        "status": run.status,
        **{key: run.counts.get(key, 0) for key in COUNT_KEYS},
        "dry_run": run.dry_run,
        "limit": run.limit,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "duration_s": round(run.duration.total_seconds(), 3) if run.duration else None,
        "error": run.error,
        "failure_kind": run.failure_kind,
        "retryable": run.retryable,
        "shard_of": run.shard_of,
    }


def summary(run: "RunView") -> dict[str, Any]:
    """Exactly the `--json` shape users script against."""
    return {
        "run_id": run.id,
        "status": run.status,
        **{key: run.counts.get(key, 0) for key in COUNT_KEYS},
        "dry_run": run.dry_run,
        "limit": run.limit,
        "failure_kind": run.failure_kind,
        "retryable": run.retryable,
    }


def _planned_document(changes: "DryRunChanges") -> dict[str, Any]:
    """A dry run's kept changes (`changes`) and how many records' changes were not kept."""
    return {"changes": changes.entries, "changes_omitted": changes.omitted}


def _print_planned(changes: "DryRunChanges") -> None:
    for line in changes.lines:
        out.print(line, soft_wrap=True, markup=False, highlight=False)
    if changes.omitted:
        out.print(
            f"… and {changes.omitted:,} more records that would change (a dry run keeps the "
            f"first {changes.records:,}; preview fewer with --limit N)"
        )


def _counts_text(counts: dict[str, int], dry_run: bool, sep: str = ", ") -> str:
    """Counts as a person reads them; a dry run wrote nothing, so it says what it would do."""
    names = DRY_RUN_COUNTS if dry_run else {}
    return sep.join(f"{names.get(k, k)} {counts.get(k, 0):,}" for k in COUNT_KEYS)


def _print_run(
    run: "RunView", as_json: bool, service: "Services", every_reason: bool = False
) -> None:
    """The run's counts and error, then its failures grouped by reason: the most frequent
    few, or `every_reason`."""
    if as_json:
        emit_json(summary(run))
        return
    colour = {"succeeded": "green", "partially succeeded": "yellow"}.get(run.status, "red")
    counts = _counts_text(run.counts, run.dry_run)
    shard = f"shard of run {run.shard_of}" if run.shard_of is not None else ""
    notes = [note for note in ("dry run" if run.dry_run else "", _limited(run), shard) if note]
    what = f" ({', '.join(notes)})" if notes else ""
    out.print(f"run {run.id} [{colour}]{run.status}[/{colour}]{what}: {counts}")
    if run.error:
        out.print(f"error: {run.error}", soft_wrap=True, markup=False)
    if run.failure_kind:
        out.print(f"failure: {run.failure_kind}: {run.failure_advice}", soft_wrap=True)
    groups = service.runs.failure_groups(run.id) if run.counts.get("failed") else []
    for group in groups if every_reason else groups[:SUMMARY_GROUPS]:
        _print_group(group)
    if not every_reason and len(groups) > SUMMARY_GROUPS:
        out.print(f"… {len(groups) - SUMMARY_GROUPS:,} more reasons: `cartwire runs show {run.id}`")


def _print_details(run: "RunView") -> None:
    """The run's counts by step, and the cursor it moved (for an incremental flow)."""
    names = DRY_RUN_COUNTS if run.dry_run else {}
    for step, counts in run.steps.items():
        shown = ", ".join(f"{names.get(k, k)} {n:,}" for k, n in counts.items())
        out.print(f"  {step}: {shown}", soft_wrap=True, markup=False, highlight=False)
    if run.cursor_before is not None or run.cursor_after is not None:
        out.print(f"cursor before: {_position(run.cursor_before)}", soft_wrap=True, markup=False)
        after = _position(run.cursor_after) if run.ended_at else "(running)"
        out.print(f"cursor after: {after}", soft_wrap=True, markup=False)


def _position(cursor: dict[str, Any] | None) -> str:
    """A cursor's values, with a list or mapping as its size (the records it lists)."""
    if cursor is None:
        return "none"
    return ", ".join(
        f"{key} {len(value) if isinstance(value, dict | list) else value}"
        for key, value in cursor.items()
    )


def _print_group(group: "FailureGroupView") -> None:
    """`3 skus failed (VALIDATION_ERROR): code has already been taken; keys: A, B, C, …`."""
    code = f" ({group.code})" if group.code else ""
    keys = ", ".join(k if k is not None else "(no key)" for k in group.keys)
    more = ", …" if group.count > len(group.keys) else ""
    out.print(
        f"{group.count:,} {group.output} failed{code}: {group.message}; keys: {keys}{more}",
        soft_wrap=True,
        markup=False,
    )


@contextmanager
def _resumable_on_ctrl_c(as_json: bool) -> Iterator[None]:
    """Ctrl-C ends the run as `interrupted` (the runner records it): say how to go on, and
    exit as an interrupted program does (128 + SIGINT)."""
    from cartwire.services.errors import RunInterrupted

    try:
        yield
    except RunInterrupted as stopped:
        service = services()
        _print_run(service.runs.get(stopped.run_id), as_json, service)
        err.print(f"interrupted; resume with `cartwire runs resume {stopped.run_id}`", markup=False)
        raise typer.Exit(INTERRUPTED) from None


def _limited(run: "RunView") -> str:
    return f"limited to {run.limit:,} records" if run.limit is not None else ""


def _exit_for(run: "RunView") -> None:
    if run.status not in ("succeeded",):
        raise typer.Exit(FAILED)


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="A flow file.")],
    destination: Annotated[
        str | None,
        typer.Option(help="Instance to derive lookup tables from (default: the flow's binding)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Report every problem of a flow file with its place in the file, and whether the lookup
    tables it reads are ready. Exit 2: the file has problems; 1: a lookup table is not ready."""
    if not file.is_file():
        raise fail(f"no flow file at {file}", USAGE)
    with errors_as_messages(handlers):
        checked = services().validate_flow(file, destination)
    found = checked.lookups
    not_ready = found is not None and not all(t.ok for t in found.tables)
    code = USAGE if checked.problems else FAILED if not_ready else 0
    if as_json:
        emit_json(validation_document(file, checked))
        raise typer.Exit(code)
    for problem in checked.problems:
        err.print(f"[red]error:[/red] {problem}", soft_wrap=True)
    if found is not None:
        out.print(f"{file}: valid", soft_wrap=True, markup=False)
        if found.unchecked:
            err.print(f"lookup tables not checked: {found.unchecked}", soft_wrap=True, markup=False)
        for table in found.tables:
            (out if table.ok else err).print(
                table.message if table.ok else f"error: {table.message}",
                soft_wrap=True,
                markup=False,
            )
    raise typer.Exit(code)


def validation_document(file: Path, checked: "FlowValidation") -> dict[str, Any]:
    """`flows validate --json`: the file's problems, then the lookup tables' findings."""
    found = checked.lookups
    return {
        "file": str(file),
        "valid": checked.valid,
        "problems": [
            {"path": p.path, "message": p.message, "line": p.line} for p in checked.problems
        ],
        "lookups": {
            "checked": found is not None and found.unchecked is None,
            "reason": "the file has problems" if found is None else found.unchecked,
            "tables": [t.model_dump() for t in (found.tables if found else [])],
        },
    }


@app.command("list")
def list_cmd(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Prebuilt and user flows, with their default bindings."""
    with errors_as_messages(handlers):
        flows = services().flows.all()
    rows: list[dict[str, Any]] = []
    cells: list[list[str]] = []
    for flow in flows:
        binding = flow.binding
        rows.append(
            {
                "name": flow.name,
                "origin": flow.origin,
                "description": flow.description,
                "source": binding.source if binding else None,
                "destination": binding.destination if binding else None,
                "enabled": binding.enabled if binding else False,
            }
        )
        bound = f"{binding.source} → {binding.destination}" if binding else ""
        enabled = "yes" if binding and binding.enabled else ""
        cells.append([flow.name, flow.origin, bound, enabled, flow.description])
    if as_json:
        emit_json(rows)
    else:
        print_table(FLOW_COLUMNS, cells, wide=wide)


FLOW_COLUMNS = (
    Column("name", give="shorten", shortest=16),
    Column("origin", priority=3, give="fold"),
    Column("bound to", priority=1, give="wrap"),
    Column("enabled", priority=2),
    Column("description", priority=2, give="wrap", shortest=16),
)


@app.command()
def show(flow: str, as_json: JsonOption = False) -> None:
    """A flow's file as cartwire understood it."""
    with errors_as_messages(handlers):
        flow_file = services().flows.get(flow)
    if as_json:
        emit_json({"origin": flow_file.origin, **flow_file.flow.model_dump(mode="json")})
    else:
        out.print(f"# {flow_file.origin}", highlight=False)
        out.print(flow_file.text, highlight=False, markup=False, soft_wrap=True)


@app.command()
def enable(
    flow: str,
    source: Annotated[str, typer.Option(help="Source instance.")],
    destination: Annotated[str, typer.Option(help="Destination instance.")],
    as_json: JsonOption = False,
) -> None:
    """Save a default binding so `flows run` and the scheduler need no instance names."""
    with errors_as_messages(handlers):
        binding = services().flows.enable(flow, source, destination)
    if as_json:
        emit_json(binding.model_dump())
    else:
        out.print(f"{binding.flow}: {source} → {destination}, enabled")


@app.command()
def disable(flow: str, as_json: JsonOption = False) -> None:
    """Keep the binding but stop the scheduler and webhooks from running the flow."""
    with errors_as_messages(handlers):
        services().flows.disable(flow)
    if as_json:
        emit_json({"flow": flow, "enabled": False})
    else:
        out.print(f"{flow}: disabled")


@app.command()
def run(
    flow: Annotated[str, typer.Argument(help="Flow name or flow file.")],
    source: Annotated[str | None, typer.Option(help="Source instance.")] = None,
    destination: Annotated[str | None, typer.Option(help="Destination instance.")] = None,
    full: Annotated[bool, typer.Option(help="Ignore the incremental cursor.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Write nothing; show what would change.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Read at most N source records (a preview); the cursor stays."),
    ] = None,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Queue the run for `cartwire worker` (CARTWIRE_BROKER_URL) instead; print its id.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a flow in this process, with progress bars and a summary (or queue it: --queue)."""
    with errors_as_messages(handlers):
        service = services()
        prepared = service.flows.prepare_run(flow, source, destination)
        for note in prepared.lookup_notes() if not as_json else []:
            err.print(note, soft_wrap=True, markup=False)
        if not full and (change := prepared.mapping_change()):
            err.print(change, soft_wrap=True)
        if queue:
            _print_queued(prepared.enqueue(full=full, dry_run=dry_run, limit=limit), as_json)
            return
        with (
            _resumable_on_ctrl_c(as_json),
            progress_bar(not as_json, prepared.flow, dry_run) as update,
        ):
            result = prepared.run(full=full, dry_run=dry_run, progress=update, limit=limit)
        changes = prepared.changes(result)
        if as_json:
            emit_json({**summary(result), **(_planned_document(changes) if changes else {})})
        else:
            if changes is not None:
                _print_planned(changes)
            _print_run(result, False, service)
    _exit_for(result)


def _print_queued(run: "RunView", as_json: bool) -> None:
    """A queued run: `--json` as for a run done here (its counts still 0), else how to follow."""
    if as_json:
        emit_json(summary(run))
    else:
        out.print(f"run {run.id} queued; follow it with `cartwire runs show {run.id}`")


# -- runs ------------------------------------------------------------------------------------


@runs_app.command("list")
def runs_list(
    flow: Annotated[str | None, typer.Option(help="Only this flow's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Recent runs, newest first."""
    with errors_as_messages(handlers):
        found = services().runs.all(flow, limit)
    if as_json:
        emit_json([run_document(r) for r in found])
        return
    print_table(RUN_COLUMNS, [run_row(r) for r in found], wide=wide)


RUN_COLUMNS = (
    Column("run", numeric=True),
    Column("flow", give="shorten", shortest=14),
    Column("status", give="wrap"),
    Column("trigger", priority=5),
    Column("source → destination", priority=4, give="wrap"),
    *(Column(k, priority=1 if k in ("read", "failed") else 3, numeric=True) for k in COUNT_KEYS),
    Column("started", priority=5, give="wrap"),
    Column("ended", priority=2, give="wrap"),
    Column("duration", priority=1, numeric=True),
)


def run_row(run: "RunView") -> list[str]:
    duration = run.duration
    return [
        str(run.id),
        run.flow,
        f"{run.status} (dry run)" if run.dry_run else run.status,
        run.trigger,
        f"{run.source} → {run.destination}",
        *(f"{run.counts.get(k, 0):,}" for k in COUNT_KEYS),
        timestamp(run.started_at),
        timestamp(run.ended_at),
        clock(duration.total_seconds()) if duration is not None else "",
    ]


@runs_app.command("show")
def runs_show(run_id: int, as_json: JsonOption = False) -> None:
    """One run: counts, log lines and its failures grouped by reason, with their keys."""
    with errors_as_messages(handlers):
        service = services()
        found = service.runs.get(run_id)
        logs = service.runs.logs(run_id)
        changes = service.runs.changes(run_id)
        if as_json:
            emit_json(
                {
                    **run_document(found),
                    "steps": found.steps,
                    "cursor_before": found.cursor_before,
                    "cursor_after": found.cursor_after,
                    "logs": [
                        {"at": line.at.isoformat(), "level": line.level, "message": line.message}
                        for line in logs
                    ],
                    "failure_groups": [g.model_dump() for g in service.runs.failure_groups(run_id)],
                    "failures": [f.model_dump() for f in service.runs.failures(run_id)],
                    **(_planned_document(changes) if changes is not None else {}),
                }
            )
            return
        _print_run(found, False, service, every_reason=True)
        _print_details(found)
        if changes is not None:
            _print_planned(changes)
        for line in logs:
            out.print(
                f"{line.at:%H:%M:%S} {line.level}: {line.message}", soft_wrap=True, markup=False
            )


@runs_app.command("stop")
def runs_stop(run_id: int, as_json: JsonOption = False) -> None:
    """Ask a run to stop after its current page (it can be resumed)."""
    with errors_as_messages(handlers):
        found = services().runs.stop(run_id)
    if as_json:
        emit_json(run_document(found))
    else:
        out.print(f"run {run_id}: stop requested ({found.status})")


def _continue(run_id: int, as_json: bool, retry: bool) -> None:
    """Resume or retry here, with a progress bar; queued for the workers if there is a broker."""
    with errors_as_messages(handlers):
        service = services()
        if service.runs.on_workers():
            _print_queued(service.runs.enqueue(run_id, retry=retry), as_json)
            return
        recorded = service.runs.get(run_id)
        with (
            _resumable_on_ctrl_c(as_json),
            progress_bar(not as_json, recorded.flow, recorded.dry_run) as update,
        ):
            result = (service.runs.retry if retry else service.runs.resume)(run_id, update)
        _print_run(result, as_json, service)
    _exit_for(result)


@runs_app.command("resume")
def runs_resume(run_id: int, as_json: JsonOption = False) -> None:
    """Continue an interrupted or stopped run from its last checkpoint (on the workers, when
    CARTWIRE_BROKER_URL is set)."""
    _continue(run_id, as_json, retry=False)


@runs_app.command("retry")
def runs_retry(run_id: int, as_json: JsonOption = False) -> None:
    """Re-send only the records a run failed on, as a new run (on the workers, when
    CARTWIRE_BROKER_URL is set)."""
    _continue(run_id, as_json, retry=True)
