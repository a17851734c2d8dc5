"""The runner of a flow between two instances: where a run starts, resumes or is retried.

It checks what would make a run fail at once (instances, lookup tables) before a run is
recorded, records the run, and hands it to the loop over source pages (`page_loop`) or, for
records a run is given (a webhook's payload, a retry's failed records), to `given_records`;
both process, write and count a page with `page_processing` and end with `run_endings`.

A run for the workers is recorded the same way, checked first the same way, but `queued`
(`queue`, `queue_retry`); a worker that took it processes it a slice at a time (`slice`).
"""

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cartwire.flows.cursor import SETTLE
from cartwire.flows.given_records import GivenRecords, Work
from cartwire.flows.lookups import MemoryLookups
from cartwire.flows.page_loop import Budget, PageLoop, Tables
from cartwire.flows.page_processing import PageProcessor
from cartwire.flows.problems import FlowError
from cartwire.flows.progress import Progress
from cartwire.flows.run_endings import ended_on_error, final_status, finished
from cartwire.flows.schema import Flow
from cartwire.flows.tables import LookupsMissing, TableState, resolve
from cartwire.flows.validation import load_flow
from cartwire.procinfo import owner_token
from cartwire.resources.opened_instance import Opener
from cartwire.store import Store
from cartwire.store.runs import Run


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
        open: Opener,
        settle: timedelta = SETTLE,
    ) -> None:
        """`open` opens an instance by name (the service layer's, bound to `store`)."""
        self.store = store
        self.open = open
        self.flow = flow
        self.text = text
        self.source_name = source
        self.destination_name = destination
        self._resolved: list[TableState] | None = None
        self.processor = PageProcessor(flow)
        self.page_loop = PageLoop(
            store,
            flow,
            source,
            destination,
            processor=self.processor,
            open_instance=open,
            tables=self._tables,
            settle=settle,
        )
        self.given = GivenRecords(
            store, flow, source, destination, processor=self.processor, open_instance=open
        )

    @classmethod
    def from_run(cls, store: Store, run: Run, open: Opener) -> "FlowRunner":
        """The runner of a recorded run, with the flow file exactly as it ran."""
        return cls(
            store, load_flow(run.flow_text), run.flow_text, run.source, run.destination, open=open
        )

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
        run = self._record(trigger, full=full, dry_run=dry_run, records=records, limit=limit)
        if on_start is not None:
            on_start(run)
        if records is not None:
            work = self.given.payload(run, records, self._lookups())
            return self.given.one_page(run, work, progress)
        return self.page_loop.execute(run, progress)

    def queue(
        self,
        *,
        full: bool = False,
        dry_run: bool = False,
        trigger: str = "manual",
        records: list[dict[str, Any]] | None = None,
        limit: int | None = None,
    ) -> Run:
        """Record a run as `run` would (checked first the same way), but `queued` for the
        workers, at slice 0: the caller sends that slice's message. Given `records` are kept
        with it, so its slice writes them."""
        return self._record(
            trigger, full=full, dry_run=dry_run, records=records, limit=limit, queued=True
        )

    def _record(
        self,
        trigger: str,
        *,
        full: bool,
        dry_run: bool,
        records: list[dict[str, Any]] | None,
        limit: int | None,
        queued: bool = False,
    ) -> Run:
        """A new run, recorded once what would make it fail at once was checked, with the log
        lines that say how it will read (a changed mapping, its lookup tables)."""
        self._check_instances(reads_source=records is None)  # before a run exists, as:
        tables = self.lookup_tables()  # a table that is not ready refuses before a run exists
        changed = None if full or records is not None else self.mapping_change()
        full = full or changed is not None
        inputs = None if records is None else [self.processor.kept.keep(r) for r in records]
        run = self._start(
            trigger, full=full, dry_run=dry_run, inputs=inputs, limit=limit, queued=queued
        )
        if changed is not None:
            self.store.run_logs.add(run.id, "info", changed)
        for table in tables:
            self.store.run_logs.add(run.id, "info", table.note)
        return run

    def resume(
        self,
        run_id: int,
        progress: Progress | None = None,
        on_start: Callable[[Run], None] | None = None,
    ) -> Run:
        """Continue an unfinished run: a read from its last checkpoint; a run of given records
        (a webhook's or another payload, a retry) by writing them again, unless its one page
        was already committed. `on_start` learns the run once it is claimed (`running` again),
        before the work."""
        unfinished = self.store.runs.get(run_id)
        given = self.store.runs.inputs(run_id)
        self._check_instances(reads_source=given is None and unfinished.trigger != "webhook")
        self.lookup_tables()  # as for a new run: refused before the run is claimed
        work_on = self._given_work(unfinished, given)
        run = self.store.runs.claim(run_id, owner_token(os.getpid()))
        self.store.run_logs.add(run.id, "info", "resumed from its last checkpoint")
        if on_start is not None:
            on_start(run)
        if work_on is None:
            return self.page_loop.execute(run, progress)
        return self._given_page(run, work_on, progress)

    def slice(self, run: Run, budget: Budget) -> Run | None:
        """Process a slice of a run a worker took (`Runs.take_slice`), under its fencing token:
        a read goes on from its last checkpoint for the pages `budget` allows; given records
        (one page) are written all at once. The run as it ended, or None while it has more to
        read: the caller hands it over to the next slice."""
        with ended_on_error(self.store, run):  # e.g. a webhook run whose records are gone
            work_on = self._given_work(run, self.store.runs.inputs(run.id))
        if work_on is None:
            return self.page_loop.execute_slice(run, budget)
        return self._given_page(run, work_on, None)

    def shard_checkpoints(self, run: Run, parts: int, least: int = 1) -> list[dict[str, Any]]:
        """Where each shard of `run` starts, if it is a full read that may be cut into up to
        `parts` shards of at least `least` records, read at once (`Runs.shard`): a new run
        (nothing read yet, no limit, no given records, not a retry, not itself a shard) whose
        read starts from nothing, the first slice of it. [] when it is read as one."""
        if (
            parts < 2
            or run.checkpoint is not None
            or run.shard_of is not None
            or run.limit is not None
            or run.retry_of is not None
            or run.trigger == "webhook"
            or self.store.runs.inputs(run.id) is not None
        ):
            return []
        source = self.flow.source
        if source.incremental and not run.full and self.page_loop.starts_at_cursor():
            return []
        with self.open(self.source_name) as opened:
            walks = opened.shards(
                source.endpoint,
                parts,
                least=least,
                filters=source.filters or None,
                page_size=source.page_size,
            )
        return [{"since": None, "paging": walk} for walk in walks]

    def _given_page(self, run: Run, work_on: Work, progress: Progress | None) -> Run:
        """The one page of a run of given records, unless it was committed: then it just ends."""
        if run.checkpoint and run.checkpoint.get("done"):
            return finished(self.store, run, final_status(self.store, run.id))
        return self.given.one_page(run, work_on, progress)

    def _given_work(self, run: Run, given: list[dict[str, Any]] | None) -> Work | None:
        """How to redo a run whose records were given rather than read; None for a read.
        `given` are the records kept with the run: whatever its trigger (a webhook, a payload
        posted to the HTTP API), a run that has them is redone with them."""
        if run.retry_of is not None:
            return self.given.resend(run, run.retry_of, self._lookups())
        if given is not None:
            return self.given.payload(run, given, self._lookups())
        if run.trigger == "webhook":
            raise FlowError(
                f"run {run.id}'s webhook records are no longer kept (it ran before they were); "
                f"`cartwire runs retry {run.id}` re-sends the ones that failed"
            )
        return None

    def retry(
        self,
        run_id: int,
        progress: Progress | None = None,
        on_start: Callable[[Run], None] | None = None,
    ) -> Run:
        """A new run that processes again, read afresh from the source, only the records
        `run_id` failed on. A dry run wrote nothing: retrying it is refused, not done for real.
        `on_start` learns the new run once it is recorded."""
        run = self._record_retry(run_id)
        if on_start is not None:
            on_start(run)
        return self.given.one_page(run, self.given.resend(run, run_id, self._lookups()), progress)

    def queue_retry(self, run_id: int) -> Run:
        """Record a retry of `run_id` as `retry` would, but `queued` for the workers."""
        return self._record_retry(run_id, queued=True)

    def _record_retry(self, run_id: int, *, queued: bool = False) -> Run:
        failed = self.store.runs.get(run_id)
        if failed.dry_run:
            raise FlowError(
                f"run {run_id} was a dry run: it wrote nothing, so there is nothing to retry; "
                f"run the flow (`cartwire flows run {failed.flow} --source {failed.source} "
                f"--destination {failed.destination}`, with --dry-run for another preview)"
            )
        self.given.check_rereadable()
        self._check_instances()
        self.lookup_tables()  # as for a new run: refused before a run exists
        return self._start("retry", retry_of=run_id, queued=queued)

    def _start(
        self,
        trigger: str,
        *,
        full: bool = False,
        dry_run: bool = False,
        retry_of: int | None = None,
        inputs: list[dict[str, Any]] | None = None,
        limit: int | None = None,
        queued: bool = False,
    ) -> Run:
        return self.store.runs.start(
            flow=self.flow.name,
            version=self.flow.version,
            text=self.text,
            trigger=trigger,
            source=self.source_name,
            destination=self.destination_name,
            full=full,
            dry_run=dry_run,
            owner=None if queued else owner_token(os.getpid()),
            retry_of=retry_of,
            inputs=inputs,
            limit=limit,
            steps=self.processor.steps_at_zero(),
        )

    # -- what a run needs before it starts ---------------------------------------------------

    def lookup_tables(self) -> list[TableState]:
        """The lookup tables the flow reads, as this runner's runs use them (imported, the
        flow's defaults, or derived from the destination), settled once. Raises
        `LookupsMissing` when one is not ready: such a run could only fail record by record."""
        if self._resolved is None:
            tables = resolve(self.flow, self.store, self.destination_name, self.open)
            not_ready = [t for t in tables if not t.ok]
            if not_ready:
                raise LookupsMissing(self.flow.name, not_ready)
            self._resolved = tables
        return self._resolved

    def _tables(self) -> Tables:
        return {table.table: table.entries for table in self.lookup_tables()}

    def _lookups(self) -> MemoryLookups:
        return MemoryLookups(self._tables())

    def mapping_change(self) -> str | None:
        """Why the next run will be a full one although it was not asked to (see
        `PageLoop.mapping_change`); None when it will not."""
        return self.page_loop.mapping_change()

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
