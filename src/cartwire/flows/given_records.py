"""Runs over records they are given rather than read: a webhook's payload, or a retry's
failed records read again by id. One page each, written and committed, with no cursor.

Apart from the page loop because nothing here pages or moves a cursor: such a run has exactly
one page, and a run resumed after that page was committed only has to end.
"""

from collections.abc import Callable
from typing import Any

from cartwire.flows.lookups import MemoryLookups
from cartwire.flows.page_processing import PageProcessor, PageWork, page_progress, source_endpoint
from cartwire.flows.problems import FlowError
from cartwire.flows.progress import Progress, Reporter
from cartwire.flows.run_endings import ended_on_error, final_status, finished
from cartwire.flows.schema import READ_STEP, Flow
from cartwire.http.paging import reads_by_id
from cartwire.resources.opened_instance import Platform
from cartwire.store import Store
from cartwire.store.run_failures import Failure
from cartwire.store.runs import Run

Work = Callable[[Platform], PageWork]  # a given run's one page, written to the destination


class GivenRecords:
    """Writes the records a run is given, as its one page."""

    def __init__(
        self,
        store: Store,
        flow: Flow,
        source: str,
        destination: str,
        *,
        processor: PageProcessor,
        open_instance: Callable[[str], Platform],
    ) -> None:
        self.store = store
        self.flow = flow
        self.source_name = source
        self.destination_name = destination
        self.processor = processor
        self.open_instance = open_instance

    def payload(self, run: Run, records: list[dict[str, Any]], lookups: MemoryLookups) -> Work:
        """Processing and writing given records (a webhook's payload), as one page."""
        return lambda destination: self.processor.process(
            records, lookups, destination, dry_run=run.dry_run
        )

    def resend(self, run: Run, failed_run: int, lookups: MemoryLookups) -> Work:
        """Reading again and writing the records `failed_run` failed on."""
        failures = self.store.run_failures.of(failed_run)

        def work_on(destination: Platform) -> PageWork:
            with self.open_instance(self.source_name) as source:
                return self._resend(run, failures, lookups, source, destination)

        return work_on

    def _resend(
        self,
        run: Run,
        failures: list[Failure],
        lookups: MemoryLookups,
        source: Platform,
        destination: Platform,
    ) -> PageWork:
        """The source records `failures` came from, read again by id and run through the flow
        again, whatever failed (a mapping step or the write): a later run may have synced a
        newer version since, which the copy a failure kept would overwrite with old values.
        A record gone from the source (or no longer matching the flow's filters) is reported
        and skipped, not written."""
        key = source_endpoint(self.flow).primary_key
        ids = list(dict.fromkeys(i for f in failures if (i := _id(f.record, key)) is not None))
        fresh = list(
            source.records_by_id(
                self.flow.source.endpoint, ids, filters=self.flow.source.filters or None
            )
        )
        work = self.processor.process(fresh, lookups, destination, dry_run=run.dry_run)
        found = {_id(record, key) for record in fresh}
        gone = [i for i in ids if i not in found]
        if gone:
            work.tally.add(READ_STEP, "read", len(gone))  # read, and found gone: skipped there
            work.tally.add(READ_STEP, "skipped", len(gone))
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
                        "data",
                    )
                )
        return work

    def one_page(self, run: Run, work_on: Work, progress: Progress | None) -> Run:
        """Write the run's one page to the destination, commit it, and end the run."""
        reporter = Reporter(progress, run.counts)
        with ended_on_error(self.store, run):
            with reporter.running(), self.open_instance(self.destination_name) as destination:
                work = work_on(destination)
                progress_made = page_progress(None, work, done=True)
                self.store.runs.commit_page(run.id, progress_made, fence=run.lease_token)
                reporter.page(work.tally.counts, remaining=0)
            return finished(self.store, run, final_status(self.store, run.id))

    def check_rereadable(self) -> None:
        """A retry reads the failed records again by id: the source must be able to."""
        endpoint = source_endpoint(self.flow)
        if endpoint.paging is None or not reads_by_id(endpoint.paging):
            strategy = endpoint.paging.strategy if endpoint.paging else "no"
            raise FlowError(
                f"a retry reads the failed records again from {self.flow.source.connector} "
                f"{endpoint.name}, whose paging ({strategy}) cannot read records by id; run the "
                f"flow again instead (`cartwire flows run {self.flow.name} --full`)"
            )


def _id(record: dict[str, Any], key: str) -> str | None:
    """A source record's primary key as text, None when it has none."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)
