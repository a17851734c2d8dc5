"""Running a flow between two instances, page by page, so that a run killed at any moment and
then resumed (or simply run again) leaves every source record in the destination exactly once.

How: a page is read, processed, and written by idempotent upserts keyed by natural key; only
then is the page's progress committed in one store transaction — the paginator's checkpoint,
the counts and the failed records. A crash before that commit repeats the page, which the
upserts turn into "unchanged"; a crash after it continues with the next page. The incremental
cursor (`cartwire.flows.cursor`) moves only when a read has finished with every record
accepted: pages come in id order, so an earlier position could skip records not yet read. A
run passes over the records the cursor lists as already processed before it processes the page,
and runs in full when the flow's mapping differs from the one the cursor was left with.
"""

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from cartwire.connectors import get_connector
from cartwire.connectors.schema import Endpoint
from cartwire.flows.cursor import SETTLE, Cursor, Window, instant, mapping_digest
from cartwire.flows.lookups import MemoryLookups
from cartwire.flows.paths import get as get_path
from cartwire.flows.preview import planned
from cartwire.flows.problems import FlowError as FlowError  # where callers have imported it from
from cartwire.flows.process import process
from cartwire.flows.progress import Progress, Reporter
from cartwire.flows.reads import SourceFields
from cartwire.flows.results import OutputRecord, RecordError, Skipped
from cartwire.flows.schema import Flow, Output
from cartwire.flows.tables import LookupsMissing, TableState, resolve
from cartwire.flows.validation import load_flow
from cartwire.http.paging import reads_by_id
from cartwire.procinfo import owner_token
from cartwire.resources.opened_instance import Platform
from cartwire.resources.writer import WriteResult
from cartwire.store import Store
from cartwire.store.planned_writes import KEPT_CHANGES, PlannedWrite
from cartwire.store.run_failures import Failure
from cartwire.store.runs import PageProgress, Run

MAPPING = "mapping"  # the code of a record that failed in the flow's steps, not at the platform


@dataclass
class Tally:
    """Counts of one page or one run, by outcome."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + n


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C ended the run: it is recorded as `interrupted`, and can be resumed."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id


@dataclass
class _PageWork:
    tally: Tally = field(default_factory=Tally)
    failures: list[Failure] = field(default_factory=list)
    planned: list[PlannedWrite] = field(default_factory=list)  # a dry run's
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)

    def failed(self, failure: Failure) -> None:
        self.tally.add("failed")
        self.failures.append(failure)

    def plan(self, output: str, record: dict[str, Any], result: WriteResult) -> None:
        """Keep what a dry run would do to `record`: no more than a run stores."""
        write = planned(output, result, record)
        if write is not None and len(self.planned) < KEPT_CHANGES:
            self.planned.append(write)


class FlowRunner:
    """Runs one flow file between a source and a destination instance."""

    def __init__(
        self,
        store: Store,
        flow: Flow,
        text: str,
        source: str,
        destination: str,
        *,
        settle: timedelta = SETTLE,
    ) -> None:
        self.store = store
        self.runs = store.runs
        self.flow = flow
        self.text = text
        self.source_name = source
        self.destination_name = destination
        self.settle = settle
        self._resolved: list[TableState] | None = None

    @classmethod
    def from_run(cls, store: Store, run: Run) -> "FlowRunner":
        """The runner of a recorded run, with the flow file exactly as it ran."""
        return cls(store, load_flow(run.flow_text), run.flow_text, run.source, run.destination)

    # -- entry points ------------------------------------------------------------------------

    def run(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        trigger: str = "manual",
        progress: Progress | None = None,
        records: list[dict[str, Any]] | None = None,
        on_start: Callable[[Run], None] | None = None,
        limit: int | None = None,
    ) -> Run:
        """Run the flow; with `records` (a webhook's payload) those are processed instead of
        reading the source, and the incremental cursor stays where it is. `on_start` learns
        the run (its id) as soon as it exists, before the work begins. With `limit` the run
        reads at most that many source records (a preview) and leaves the cursor alone, unless
        the read ended by itself first (then it read everything, like any run). A read
        whose flow changed since the cursor was saved runs in full (`mapping_change`), and says
        so in the run's log."""
        self._check_instances(reads_source=records is None)  # before a run exists, as:
        tables = self.lookup_tables()  # a table that is not ready refuses before a run exists
        changed = None if full or records is not None else self.mapping_change()
        full = full or changed is not None
        inputs = None if records is None else [self._kept.keep(r) for r in records]
        run = self._start(trigger, full=full, dry_run=dry_run, inputs=inputs, limit=limit)
        if changed is not None:
            self.store.run_logs.add(run.id, "info", changed)
        if on_start is not None:
            on_start(run)
        for table in tables:
            self.store.run_logs.add(run.id, "info", table.note)
        if records is not None:
            return self._one_page(run, self._records_work(run, records), progress)
        return self._execute(run, progress)

    def resume(self, run_id: int, progress: Progress | None = None) -> Run:
        """Continue an unfinished run: a read from its last checkpoint; a run of given records
        (webhook, retry) by writing them again, unless its one page was already committed."""
        unfinished = self.runs.get(run_id)
        self._check_instances(reads_source=unfinished.trigger != "webhook")
        self.lookup_tables()  # as for a new run: refused before the run is claimed
        work_on = self._given_work(unfinished)
        run = self.runs.claim(run_id, owner_token(os.getpid()))
        self.store.run_logs.add(run.id, "info", "resumed from its last checkpoint")
        if work_on is None:
            return self._execute(run, progress)
        if run.checkpoint and run.checkpoint.get("done"):
            return self.runs.finish(run.id, self._final_status(run.id))
        return self._one_page(run, work_on, progress)

    def _given_work(self, run: Run) -> Callable[[Platform], "_PageWork"] | None:
        """How to redo a run whose records were given rather than read; None for a read."""
        if run.retry_of is not None:
            return self._resend_work(run, run.retry_of)
        if run.trigger != "webhook":
            return None
        records = self.runs.inputs(run.id)
        if records is None:
            raise FlowError(
                f"run {run.id}'s webhook records are no longer kept (it ran before they were); "
                f"`cartwire runs retry {run.id}` re-sends the ones that failed"
            )
        return self._records_work(run, records)

    def retry(self, run_id: int, progress: Progress | None = None) -> Run:
        """A new run that processes again, read afresh from the source, only the records
        `run_id` failed on. A dry run wrote nothing: retrying it is refused, not done for real."""
        failed = self.runs.get(run_id)
        if failed.dry_run:
            raise FlowError(
                f"run {run_id} was a dry run: it wrote nothing, so there is nothing to retry; "
                f"run the flow (`cartwire flows run {failed.flow} --source {failed.source} "
                f"--destination {failed.destination}`, with --dry-run for another preview)"
            )
        self._check_rereadable()
        self._check_instances()
        self.lookup_tables()  # as for a new run: refused before a run exists
        run = self._start("retry", retry_of=run_id)
        return self._one_page(run, self._resend_work(run, run_id), progress)

    def _start(
        self,
        trigger: str,
        *,
        full: bool = False,
        dry_run: bool = False,
        retry_of: int | None = None,
        inputs: list[dict[str, Any]] | None = None,
        limit: int | None = None,
    ) -> Run:
        return self.runs.start(
            flow=self.flow.name,
            version=self.flow.version,
            text=self.text,
            trigger=trigger,
            source=self.source_name,
            destination=self.destination_name,
            full=full,
            dry_run=dry_run,
            owner=owner_token(os.getpid()),
            retry_of=retry_of,
            inputs=inputs,
            limit=limit,
        )

    def _resend_work(self, run: Run, failed_run: int) -> Callable[[Platform], "_PageWork"]:
        failures = self.store.run_failures.of(failed_run)

        def work_on(destination: Platform) -> _PageWork:
            with Platform(self.source_name, self.store) as source:
                return self._resend(run, failures, source, destination)

        return work_on

    def _resend(
        self, run: Run, failures: list[Failure], source: Platform, destination: Platform
    ) -> _PageWork:
        """The source records `failures` came from, read again by id and run through the flow
        again, whatever failed (a mapping step or the write): a later run may have synced a
        newer version since, which the copy a failure kept would overwrite with old values.
        A record gone from the source (or no longer matching the flow's filters) is reported
        and skipped, not written."""
        key = self._source_endpoint().primary_key
        ids = list(dict.fromkeys(i for f in failures if (i := _id(f.record, key)) is not None))
        fresh = list(
            source.records_by_id(
                self.flow.source.endpoint, ids, filters=self.flow.source.filters or None
            )
        )
        work = self._process_page(run, fresh, self._lookups(), destination)
        found = {_id(record, key) for record in fresh}
        gone = [i for i in ids if i not in found]
        if gone:
            work.tally.add("read", len(gone))
            work.tally.add("skipped", len(gone))
            shown = ", ".join(gone[:20]) + (f" and {len(gone) - 20} more" if len(gone) > 20 else "")
            work.logs.append(
                (
                    "warning",
                    f"{len(gone)} failed record(s) are no longer in the source or no longer "
                    f"match the flow's filters, so were not written ({key}: {shown})",
                )
            )
        for failure in failures:
            if _id(failure.record, key) is None:
                work.failed(
                    Failure(
                        failure.output,
                        failure.key,
                        failure.code,
                        f"cannot be read again from the source: kept without its {key} (by an "
                        f"older cartwire); run the flow with --full to sync it",
                        failure.record,
                    )
                )
        return work

    def _records_work(
        self, run: Run, records: list[dict[str, Any]]
    ) -> Callable[[Platform], "_PageWork"]:
        """Processing and writing given records (a webhook's payload), as one page."""
        lookups = self._lookups()
        return lambda destination: self._process_page(run, records, lookups, destination)

    def _one_page(
        self, run: Run, work_on: Callable[[Platform], _PageWork], progress: Progress | None
    ) -> Run:
        """A run whose records are given rather than read (retry, webhook): one page, written
        to the destination and committed, with no cursor."""
        reporter = Reporter(progress, run.counts)
        try:
            with reporter.running(), Platform(self.destination_name, self.store) as destination:
                work = work_on(destination)
                self.runs.commit_page(run.id, self._progress(None, work, done=True))
                reporter.page(work.tally.counts, remaining=0)
            return self.runs.finish(run.id, self._final_status(run.id))
        except BaseException as exc:
            self._ended_by(run, exc)
            raise

    def lookup_tables(self) -> list[TableState]:
        """The lookup tables the flow reads, as this runner's runs use them (imported, the
        flow's defaults, or derived from the destination), settled once. Raises
        `LookupsMissing` when one is not ready: such a run could only fail record by record."""
        if self._resolved is None:
            tables = resolve(self.flow, self.store, self.destination_name)
            not_ready = [t for t in tables if not t.ok]
            if not_ready:
                raise LookupsMissing(self.flow.name, not_ready)
            self._resolved = tables
        return self._resolved

    def _tables(self) -> dict[str, dict[str, str]]:
        return {table.table: table.entries for table in self.lookup_tables()}

    def _lookups(self) -> MemoryLookups:
        return MemoryLookups(self._tables())

    # -- the cursor --------------------------------------------------------------------------

    def _cursor(self) -> Cursor | None:
        position = self.store.cursors.get(self.flow.name, self.source_name, self.destination_name)
        return Cursor.load(position, self.settle)

    def _mapping(self) -> str:
        return mapping_digest(self.flow, self._tables())

    def mapping_change(self) -> str | None:
        """Why the next run will be a full one although it was not asked to: the flow's mapping
        (or a lookup table it reads) differs from the one the cursor's records were written
        with, so the records before the cursor would keep the old mapping. None otherwise
        (also for a cursor saved before digests were kept: taken as unchanged)."""
        if not self.flow.source.incremental:
            return None
        cursor = self._cursor()
        if cursor is None or cursor.mapping is None or cursor.mapping == self._mapping():
            return None
        return f"flow {self.flow.name} changed since the last successful run: running in full"

    # -- the page loop -----------------------------------------------------------------------

    def _execute(self, run: Run, progress: Progress | None) -> Run:
        reporter = Reporter(progress, run.counts)
        try:
            with (
                reporter.running(),
                Platform(self.source_name, self.store) as source,
                Platform(self.destination_name, self.store) as destination,
            ):
                outcome = self._pages(run, source, destination, reporter)
            return self.runs.finish(run.id, outcome)
        except BaseException as exc:
            self._ended_by(run, exc)
            raise

    def _ended_by(self, run: Run, exc: BaseException) -> None:
        """Record how an exception ended the run; Ctrl-C leaves it resumable, as
        `RunInterrupted` (which still is a KeyboardInterrupt)."""
        if isinstance(exc, KeyboardInterrupt):
            self.store.run_logs.add(run.id, "info", "interrupted (Ctrl-C); resume to continue")
            self.runs.finish(run.id, "interrupted")
            if not isinstance(exc, RunInterrupted):
                raise RunInterrupted(run.id) from None
            return
        self.runs.finish(run.id, "failed", error=_describe(exc))

    def _since(self, run: Run) -> tuple[datetime | None, Cursor | None]:
        """Where the read starts, and the cursor whose listed records it passes over (None for
        a full read). A resumed run reads the cursor again: it moves only when a run ends."""
        if run.full or not self.flow.source.incremental:
            return (instant(run.checkpoint.get("since")) if run.checkpoint else None), None
        cursor = self._cursor()
        if run.checkpoint is not None:
            return instant(run.checkpoint.get("since")), cursor
        return (cursor.since if cursor else None), cursor

    def _pages(self, run: Run, source: Platform, destination: Platform, reporter: Reporter) -> str:
        since, cursor = self._since(run)
        checkpoint = run.checkpoint or {}
        # The newest change the read has seen: pages come in id order (full reads, Commerce
        # Layer windows), not in time order, so the cursor may only move there once the whole
        # read is done, and only if the destination accepted every record. The records it
        # lists are not checkpointed: a resumed run lists only what it read itself, and the
        # next run processes the others again (unchanged), at no risk.
        window = Window(
            self.settle,
            start=since,
            newest=checkpoint.get("newest"),
            horizon=instant(checkpoint.get("horizon")),
        )
        lookups = self._lookups()
        stop_on_error = self.flow.settings.on_record_error == "stop"
        read = run.counts.get("read", 0)  # (a resumed run has read some already)
        for page in source.pages(
            self.flow.source.endpoint,
            filters=self.flow.source.filters or None,
            since=since,
            resume=checkpoint.get("paging"),
            page_size=self.flow.source.page_size,
        ):
            window.served(page.served_at)
            fresh = self._unseen(page.records, cursor, window)
            records = fresh if run.limit is None else fresh[: run.limit - read]
            read += len(records)
            work = self._process_page(run, records, lookups, destination)
            if len(fresh) < len(page.records):
                work.tally.add("seen", len(page.records) - len(fresh))
            stop = self.runs.commit_page(run.id, self._progress(since, work, page.state, window))
            reporter.page(work.tally.counts, page.total, page.remaining)
            if work.failures and stop_on_error:
                self.store.run_logs.add(
                    run.id,
                    "error",
                    "stopped at the first failed record (settings.on_record_error: stop)",
                )
                return "failed"
            if stop:
                self.store.run_logs.add(run.id, "info", "stopped on request; resume to continue")
                return "stopped"
            if run.limit is not None and read >= run.limit:
                # Records after the limit are unread, so the cursor may not pass them.
                message = f"limited to {run.limit:,} source records (--limit); the cursor stays"
                self.store.run_logs.add(run.id, "info", message)
                return self._final_status(run.id)
        return self._read_done(run, window)

    def _unseen(
        self, records: list[dict[str, Any]], cursor: Cursor | None, window: Window
    ) -> list[dict[str, Any]]:
        """The records of a page the cursor does not list as processed, in page order; all of
        them go into the window."""
        endpoint = self._source_endpoint()
        stamp, primary = endpoint.updated_at or "updated_at", endpoint.primary_key
        fresh = []
        for record in records:
            value, key = get_path(record, stamp), get_path(record, primary)
            key = None if key is None else str(key)
            window.saw(value, key)
            if cursor is None or not cursor.taken(instant(value), key):
                fresh.append(record)
        return fresh

    def _read_done(self, run: Run, window: Window) -> str:
        """The status of a finished read; a successful incremental one saves its cursor (once:
        a run resumed after that commit keeps it as it is)."""
        status = self._final_status(run.id)
        done = self.runs.get(run.id)
        if seen := done.counts.get("seen", 0):
            self.store.run_logs.add(
                run.id, "info", f"passed over {seen:,} records an earlier run already processed"
            )
        checkpoint = done.checkpoint or {}
        if not self.flow.source.incremental or status != "succeeded" or checkpoint.get("cursor"):
            return status
        position = window.position(self._mapping())
        if position is not None:
            self.runs.commit_page(
                run.id, PageProgress(checkpoint={**checkpoint, "cursor": True}, cursor=position)
            )
        return status

    def _process_page(
        self,
        run: Run,
        records: list[dict[str, Any]],
        lookups: MemoryLookups,
        destination: Platform,
    ) -> _PageWork:
        work = _PageWork()
        work.tally.add("read", len(records))
        # Each output record with the source record it came from: a failure keeps the source's
        # fields, so that a retry can read it again by id.
        batches: dict[str, list[tuple[OutputRecord, dict[str, Any]]]] = {
            o.name: [] for o in self.flow.outputs
        }
        for record in records:
            for output_name, results in process(self.flow, record, lookups).items():
                for result in results:
                    if isinstance(result, OutputRecord):
                        batches[output_name].append((result, record))
                    elif isinstance(result, Skipped):
                        work.tally.add("skipped")
                    elif isinstance(result, RecordError):
                        kept = self._kept.keep(record)
                        work.failed(
                            Failure(
                                output_name, self._source_key(record), MAPPING, str(result), kept
                            )
                        )
        for output in self.flow.outputs:  # in file order: e.g. skus before their prices
            pending = batches[output.name]
            size = self.flow.batch_size(output)
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                written = self._write(
                    destination, output, [r.record for r, _ in chunk], dry_run=run.dry_run
                )
                for (item, origin), outcome in zip(chunk, written, strict=True):
                    self._count(work, output, origin, outcome)
                    if run.dry_run:
                        work.plan(output.name, item.record, outcome)
        return work

    def _write(
        self,
        destination: Platform,
        output: Output,
        records: list[dict[str, Any]],
        *,
        dry_run: bool = False,
    ) -> Iterable[WriteResult]:
        """Upsert a batch, re-sending records that failed up to `retries_per_record` times."""
        target = output.destination
        settings = self.flow.settings
        concurrency = settings.concurrency if "concurrency" in settings.model_fields_set else None
        replace = self.flow.replaced(output)
        results = list(
            destination.upsert(
                target.endpoint,
                records,
                target.key,
                dry_run=dry_run,
                mode=target.mode,
                concurrency=concurrency,
                replace=replace,
            )
        )
        for _ in range(self.flow.settings.retries_per_record):
            again = [i for i, r in enumerate(results) if r.failed and _transient(r)]
            if not again:
                break
            retried = destination.upsert(
                target.endpoint,
                [records[i] for i in again],
                target.key,
                dry_run=dry_run,
                mode=target.mode,
                concurrency=concurrency,
                replace=replace,
            )
            for i, result in zip(again, retried, strict=True):
                results[i] = result
        return results

    def _count(
        self,
        work: _PageWork,
        output: Output,
        source_record: dict[str, Any],
        result: WriteResult,
    ) -> None:
        if result.failed:
            message = result.message or "the destination refused the record"
            kept = self._kept.keep(source_record)
            work.failed(Failure(output.name, result.key, result.code, message, kept))
        else:
            work.tally.add(result.outcome)

    def _progress(
        self,
        since: datetime | None,
        work: _PageWork,
        paging: dict[str, Any] | None = None,
        window: Window | None = None,
        *,
        done: bool = False,
    ) -> PageProgress:
        horizon = window.horizon if window else None
        checkpoint: dict[str, Any] = {
            "since": since.isoformat() if since else None,
            "paging": paging,
            "newest": window.newest if window else None,
            "horizon": horizon.isoformat() if horizon else None,
        }
        if done:  # a run of given records committed its only page: resuming just ends it
            checkpoint["done"] = True
        return PageProgress(
            checkpoint=checkpoint,
            counts=work.tally.counts,
            failures=work.failures,
            planned=work.planned,
            logs=work.logs,
        )

    def _final_status(self, run_id: int) -> str:
        counts = self.runs.get(run_id).counts
        if not counts.get("failed"):
            return "succeeded"
        written = sum(counts.get(k, 0) for k in ("created", "updated", "unchanged"))
        return "partially succeeded" if written else "failed"

    # -- checks ------------------------------------------------------------------------------

    @cached_property
    def _kept(self) -> SourceFields:
        """What the store keeps of a source record: the fields this flow reads, no secret."""
        return SourceFields.of(self.flow, self._source_endpoint())

    def _source_endpoint(self) -> Endpoint:
        return get_connector(self.flow.source.connector).endpoint(self.flow.source.endpoint)

    def _check_rereadable(self) -> None:
        """A retry reads the failed records again by id: the source must be able to."""
        endpoint = self._source_endpoint()
        if endpoint.paging is None or not reads_by_id(endpoint.paging):
            strategy = endpoint.paging.strategy if endpoint.paging else "no"
            raise FlowError(
                f"a retry reads the failed records again from {self.flow.source.connector} "
                f"{endpoint.name}, whose paging ({strategy}) cannot read records by id; run the "
                f"flow again instead (`cartwire flows run {self.flow.name} --full`)"
            )

    def _source_key(self, record: dict[str, Any]) -> str | None:
        """A source record's natural key (its fields joined by commas), else its id: every
        failure names its record, also one that never got as far as a destination key."""
        fields = (self._source_endpoint().natural_key or "").split(",")
        values = [get_path(record, f.strip()) for f in fields if f.strip()]
        if values and all(v not in (None, "") for v in values):
            return ",".join(str(v) for v in values)
        found = record.get("id")
        return None if found is None else str(found)

    def _check_instances(self, *, reads_source: bool = True) -> None:
        """Both instances exist and are of the connectors the flow names, checked before a run
        is recorded: a run that could only fail at once would be one more to resume or retry.
        Raises `InstanceNotFound` (naming the instance) or `FlowError`."""
        if reads_source:
            connector = self.store.instances.get(self.source_name).connector
            if connector != self.flow.source.connector:
                raise FlowError(
                    f"flow {self.flow.name!r} reads from {self.flow.source.connector} but "
                    f"instance {self.source_name!r} is {connector}"
                )
        destination = self.store.instances.get(self.destination_name).connector
        self.flow.check_writes_to(destination, self.destination_name)


def _id(record: dict[str, Any], key: str) -> str | None:
    """A source record's primary key as text, None when it has none."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def _transient(result: WriteResult) -> bool:
    """Worth another try within the run: the platform was busy, not the record wrong."""
    return result.code in (
        None,
        "General",
        "OverCapacity",
        "PendingOperation",
        "Unreachable",
        "ConcurrentModification",
        "INTERNAL_SERVER_ERROR",
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
