"""The run loop over the source's pages, so that a run killed at any moment and then resumed
(or simply run again) leaves every source record in the destination exactly once.

How: a page is read, processed, and written by idempotent upserts keyed by natural key; only
then is the page's progress committed in one store transaction — the paginator's checkpoint,
the counts and the failed records. A crash before that commit repeats the page, which the
upserts turn into "unchanged"; a crash after it continues with the next page. The incremental
cursor (`cartwire.flows.cursor`) moves only when a read has finished with every record
accepted: pages come in id order, so an earlier position could skip records not yet read. A
run passes over the records the cursor lists as already processed before it processes the page,
and runs in full when the flow's mapping differs from the one the cursor was left with.

A run on workers is read in slices (`budget`): a slice reads from the run's checkpoint, stops
after the pages its budget allows with the run unfinished, and the next slice goes on from
there exactly as a resumed run would. Every commit carries the run's fencing token, so a slice
whose run was taken over meanwhile commits nothing (`store.runs.LeaseLost`).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cartwire.flows.cursor import Cursor, Window, instant, mapping_digest
from cartwire.flows.lookups import MemoryLookups
from cartwire.flows.page_processing import PageProcessor, page_progress, source_endpoint
from cartwire.flows.paths import get as get_path
from cartwire.flows.progress import Progress, Reporter
from cartwire.flows.run_endings import ended_on_error, final_status, finished
from cartwire.flows.schema import READ_STEP, Flow
from cartwire.resources.opened_instance import Platform
from cartwire.store import Store
from cartwire.store.runs import PageProgress, Run

Tables = dict[str, dict[str, str]]  # lookup table name -> its entries, as the run uses them
# Whether a slice goes on after committing this many pages (of the slice, not of the run).
Budget = Callable[[int], bool]


class PageLoop:
    """Reads a flow's source page by page, writes each page, and keeps its cursor."""

    def __init__(
        self,
        store: Store,
        flow: Flow,
        source: str,
        destination: str,
        *,
        processor: PageProcessor,
        open_instance: Callable[[str], Platform],
        tables: Callable[[], Tables],
        settle: timedelta,
    ) -> None:
        """`tables` settles the lookup tables when first needed (it may refuse: not ready)."""
        self.store = store
        self.flow = flow
        self.source_name = source
        self.destination_name = destination
        self.processor = processor
        self.open_instance = open_instance
        self.tables = tables
        self.settle = settle

    def execute(self, run: Run, progress: Progress | None) -> Run:
        """Read the run's pages from its checkpoint to the end, and end the run."""
        finished = self._execute(run, progress, None)
        assert finished is not None  # without a budget, the read runs to its end
        return finished

    def execute_slice(self, run: Run, budget: Budget) -> Run | None:
        """Read the pages `budget` allows from the run's checkpoint: the run as it ended if the
        read ended, else None (the run unfinished, for the next slice)."""
        return self._execute(run, None, budget)

    def _execute(self, run: Run, progress: Progress | None, budget: Budget | None) -> Run | None:
        reporter = Reporter(progress, run.counts)
        with ended_on_error(self.store, run):
            with (
                reporter.running(),
                self.open_instance(self.source_name) as source,
                self.open_instance(self.destination_name) as destination,
            ):
                outcome = self._pages(run, source, destination, reporter, budget)
            if outcome is None:
                return None
            if run.shard_of is not None and self.flow.source.incremental:
                return finished(self.store, run, outcome, self._shards_cursor)
            return finished(self.store, run, outcome)

    # -- the cursor --------------------------------------------------------------------------

    def _cursor(self) -> Cursor | None:
        position = self.store.cursors.get(self.flow.name, self.source_name, self.destination_name)
        return Cursor.load(position, self.settle)

    def _mapping(self) -> str:
        return mapping_digest(self.flow, self.tables())

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

    def starts_at_cursor(self) -> bool:
        """Whether a new run that is not `--full` reads from a saved cursor (incrementally)
        rather than everything."""
        return self.flow.source.incremental and self._cursor() is not None

    def _since(self, run: Run) -> tuple[datetime | None, Cursor | None]:
        """Where the read starts, and the cursor whose listed records it passes over (None for
        a full read). A resumed run reads the cursor again: it moves only when a run ends."""
        if run.full or not self.flow.source.incremental:
            return (instant(run.checkpoint.get("since")) if run.checkpoint else None), None
        cursor = self._cursor()
        if run.checkpoint is not None:
            return instant(run.checkpoint.get("since")), cursor
        return (cursor.since if cursor else None), cursor

    # -- the page loop -----------------------------------------------------------------------

    def _pages(
        self,
        run: Run,
        source: Platform,
        destination: Platform,
        reporter: Reporter,
        budget: Budget | None,
    ) -> str | None:
        """The run's status once the read ended, or None when `budget` ended the slice first."""
        since, cursor = self._since(run)
        checkpoint = run.checkpoint or {}
        # The newest change the read has seen: pages come in id order (full reads, windows of
        # time read by id), not in time order, so the cursor may only move there once the whole
        # read is done, and only if the destination accepted every record. The records it
        # lists are not checkpointed: a resumed run lists only what it read itself, and the
        # next run processes the others again (unchanged), at no risk.
        window = Window(
            self.settle,
            start=since,
            newest=checkpoint.get("newest"),
            horizon=instant(checkpoint.get("horizon")),
        )
        lookups = MemoryLookups(self.tables())
        stop_on_error = self.flow.settings.on_record_error == "stop"
        read = run.counts.get("read", 0)  # (a resumed run has read some already)
        for committed, page in enumerate(  # committed: pages of this call (a slice's) before it
            source.pages(
                self.flow.source.endpoint,
                filters=self.flow.source.filters or None,
                since=since,
                resume=checkpoint.get("paging"),
                page_size=self.flow.source.page_size,
            )
        ):
            window.served(page.served_at)
            fresh = self._unseen(page.records, cursor, window)
            records = fresh if run.limit is None else fresh[: run.limit - read]
            read += len(records)
            work = self.processor.process(records, lookups, destination, dry_run=run.dry_run)
            if len(fresh) < len(page.records):
                work.tally.add(READ_STEP, "seen", len(page.records) - len(fresh))
            stop = self.store.runs.commit_page(
                run.id, page_progress(since, work, page.state, window), fence=run.lease_token
            )
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
                return final_status(self.store, run.id)
            # A page after which the source says nothing remains ends the read, not the slice.
            if budget is not None and page.remaining != 0 and not budget(committed + 1):
                return None
        return self._read_done(run, window)

    def _shards_cursor(self, checkpoints: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Where a sharded run's cursor moves once all its shards succeeded: past the newest
        change any shard saw, and no later than the earliest horizon of them (the records each
        shard passed by at the cursor's instant are not listed: the next run finds them
        unchanged)."""
        newest = [(at, c["newest"]) for c in checkpoints if (at := instant(c.get("newest")))]
        horizons = [h for c in checkpoints if (h := instant(c.get("horizon"))) is not None]
        if not newest:
            return None
        window = Window(
            self.settle, start=None, newest=max(newest)[1], horizon=min(horizons, default=None)
        )
        return window.position(self._mapping())

    def _unseen(
        self, records: list[dict[str, Any]], cursor: Cursor | None, window: Window
    ) -> list[dict[str, Any]]:
        """The records of a page the cursor does not list as processed, in page order; all of
        them go into the window."""
        endpoint = source_endpoint(self.flow)
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
        status = final_status(self.store, run.id)
        done = self.store.runs.get(run.id)
        if seen := done.counts.get("seen", 0):
            self.store.run_logs.add(
                run.id, "info", f"passed over {seen:,} records an earlier run already processed"
            )
        checkpoint = done.checkpoint or {}
        if run.shard_of is not None:  # the run's cursor moves once all its shards are done
            return status
        if not self.flow.source.incremental or status != "succeeded" or checkpoint.get("cursor"):
            return status
        position = window.position(self._mapping())
        if position is not None:
            self.store.runs.commit_page(
                run.id,
                PageProgress(checkpoint={**checkpoint, "cursor": True}, cursor=position),
                fence=run.lease_token,
            )
        return status
