"""One page of source records through the flow and into the destination, counted.

Both kinds of run share this (`page_loop` over the pages it reads, `given_records` over the
records a webhook or a retry hands in): a record is processed, written, retried and counted the
same way whichever way it arrived, and both commit the same `PageProgress`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from cartwire.connectors import get_connector
from cartwire.connectors.schema import Endpoint, key_fields
from cartwire.flows.cursor import Window
from cartwire.flows.failure_reasons import of_write
from cartwire.flows.lookups import MemoryLookups
from cartwire.flows.paths import get as get_path
from cartwire.flows.preview import planned
from cartwire.flows.process import process
from cartwire.flows.reads import SourceFields
from cartwire.flows.results import OutputRecord, RecordError, Skipped
from cartwire.flows.schema import READ_STEP, Flow, Output
from cartwire.resources.opened_instance import Platform
from cartwire.resources.writer import WriteResult
from cartwire.store.planned_writes import KEPT_CHANGES, PlannedWrite
from cartwire.store.run_failures import Failure
from cartwire.store.runs import OUTCOMES, PageProgress

MAPPING = "mapping"  # the code of a record that failed in the flow's steps, not at the platform


@dataclass
class Tally:
    """Counts of one page, by outcome and by step: the source's read (`READ_STEP`: read, and
    records passed over) and each output (what happened to its records). Every count is in
    exactly one step, so a step's are the outcomes it gave, and they add up to the run's."""

    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, step: str, outcome: str, n: int = 1) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + n
        at = self.steps.setdefault(step, {})
        at[outcome] = at.get(outcome, 0) + n


LOGGED_FAILURES = 20  # failed records of one page that get a log line each


@dataclass
class PageWork:
    """What one page did, until it is committed."""

    tally: Tally = field(default_factory=Tally)
    failures: list[Failure] = field(default_factory=list)
    planned: list[PlannedWrite] = field(default_factory=list)  # a dry run's
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)

    def failed(self, failure: Failure) -> None:
        """Count and keep the failure, and say so in the run's log at error level (so a log
        read "errors only" shows why), one line each for the first `LOGGED_FAILURES` of a page:
        a page of thousands of failures would bury the log, and all are kept regardless."""
        self.tally.add(failure.output, "failed")
        self.failures.append(failure)
        if len(self.failures) <= LOGGED_FAILURES:
            code = f" {failure.code}" if failure.code else ""
            what = f"{failure.output} {failure.key}" if failure.key else failure.output
            self.logs.append(("error", f"{what} failed:{code} {failure.message}"))
        elif len(self.failures) == LOGGED_FAILURES + 1:
            self.logs.append(
                ("error", "more records of this page failed: the run's failed records list all")
            )

    def plan(self, output: str, record: dict[str, Any], result: WriteResult) -> None:
        """Keep what a dry run would do to `record`: no more than a run stores."""
        write = planned(output, result, record)
        if write is not None and len(self.planned) < KEPT_CHANGES:
            self.planned.append(write)


def source_endpoint(flow: Flow) -> Endpoint:
    return get_connector(flow.source.connector).endpoint(flow.source.endpoint)


class PageProcessor:
    """Processes, writes and counts the pages of one flow."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def steps_at_zero(self) -> dict[str, dict[str, int]]:
        """A new run's counts by step: every output's outcomes at 0, so that one which wrote
        nothing (or nothing yet) still shows each of its steps."""
        outputs = {output.name: dict.fromkeys(OUTCOMES, 0) for output in self.flow.outputs}
        return {READ_STEP: {"read": 0}, **outputs}

    @cached_property
    def kept(self) -> SourceFields:
        """What the store keeps of a source record: the fields this flow reads, no secret."""
        return SourceFields.of(self.flow, source_endpoint(self.flow))

    def process(
        self,
        records: list[dict[str, Any]],
        lookups: MemoryLookups,
        destination: Platform,
        *,
        dry_run: bool,
    ) -> PageWork:
        work = PageWork()
        work.tally.add(READ_STEP, "read", len(records))
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
                        work.tally.add(output_name, "skipped")
                    elif isinstance(result, RecordError):
                        kept = self.kept.keep(record)
                        key = self._source_key(record)
                        failure = Failure(output_name, key, MAPPING, str(result), kept, "data")
                        work.failed(failure)
        for output in self.flow.outputs:  # in file order: e.g. skus before their prices
            pending = batches[output.name]
            size = self.flow.batch_size(output)
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                written = self._write(
                    destination, output, [r.record for r, _ in chunk], dry_run=dry_run
                )
                for (item, origin), outcome in zip(chunk, written, strict=True):
                    self._count(work, output, origin, outcome)
                    if dry_run:
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
            again = [i for i, r in enumerate(results) if r.retryable]
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
        work: PageWork,
        output: Output,
        source_record: dict[str, Any],
        result: WriteResult,
    ) -> None:
        if result.failed:
            message = result.message or "the destination refused the record"
            kept = self.kept.keep(source_record)
            kind = of_write(result.error_class)
            work.failed(Failure(output.name, result.key, result.code, message, kept, kind))
        else:
            work.tally.add(output.name, result.outcome)

    def _source_key(self, record: dict[str, Any]) -> str | None:
        """A source record's natural key (its fields joined by commas), else its id: every
        failure names its record, also one that never got as far as a destination key."""
        fields = key_fields(source_endpoint(self.flow).natural_key)
        values = [get_path(record, f) for f in fields]
        if values and all(v not in (None, "") for v in values):
            return ",".join(str(v) for v in values)
        found = record.get("id")
        return None if found is None else str(found)


def page_progress(
    since: datetime | None,
    work: PageWork,
    paging: dict[str, Any] | None = None,
    window: Window | None = None,
    *,
    done: bool = False,
) -> PageProgress:
    """What committing the page adds to its run, its checkpoint included."""
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
        steps=work.tally.steps,
        failures=work.failures,
        planned=work.planned,
        logs=work.logs,
    )
