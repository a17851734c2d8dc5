"""Bulk upserts through the Imports API (facts §7.3): thousands of records per write request.

Per-record writes are bound by the write limit (200 a minute live): 10,000 changed records
would take 50 minutes. One import takes up to 10,000 inputs in one POST, and the platform
upserts them itself (by id, or by natural key). Only the records the upsert planned to create
or update go in — the unchanged ones were found by the lookups and are never sent — so a
second run of the same data makes no import at all.

- Inputs are grouped by the import's parent (`parent_resource_id`: a price list for prices, a
  stock location for stock items) and cut into imports of at most 10,000; at most 10 of ours
  are queued at once, and a 422 saying the organization's queue is full (someone else's
  imports) is waited out.
- Imports are polled (one request for all of ours, `filter[q][id_in]`), backing off from
  `poll` seconds to 5 s, until `completed` or `interrupted`; past `timeout` they are
  interrupted (`_interrupt`).
- Each input gets its own result. An input updating a record carries that record's `id`, and
  every input carries the natural key's first attribute, under which `errors_log` reports its
  problems (`{"SKU-1": {"name": ["can't be blank"]}}`). Inputs named in `errors_log` failed;
  the others were created or updated as planned. When that cannot be told — the import was
  interrupted, timed out, or logged errors under names that match no input — the records
  are read back: those now as desired succeeded, the others failed. Nothing is reported as
  written on faith.
- The POST is only repeated after a failure part-way when every input has an id or a natural
  key (a second run of such an import upserts the same records again); with keyless inputs a
  repeat could create records twice.
"""

import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from cartwire.http.client import ApiClient
from cartwire.http.errors import ApiError
from cartwire.platforms.commercelayer.lookup import Found
from cartwire.platforms.commercelayer.plans import OUTCOMES, Plan
from cartwire.platforms.commercelayer.records import Desired, Shape
from cartwire.resources.writer import WriteResult

MAX_INPUTS = 10_000
MAX_QUEUED = 10
MAX_POLL = 5.0
FINISHED = ("completed", "interrupted")

Verify = Callable[[list[Desired]], Found]


@dataclass
class _Job:
    plans: list[Plan]
    inputs: list[dict[str, Any]]
    parent: str | None
    id: str | None = None
    final: dict[str, Any] = field(default_factory=dict)  # the finished import's attributes
    failed: ApiError | None = None


class ImportRunner:
    def __init__(
        self,
        api: ApiClient,
        shape: Shape,
        parent: str | None,
        skip_errors: bool,
        poll: float,
        timeout: float,
        size: int = MAX_INPUTS,
    ) -> None:
        self.api = api
        self.shape = shape
        self.parent = parent
        self.skip_errors = skip_errors
        self.poll = poll
        self.timeout = timeout
        self.size = min(size, MAX_INPUTS)
        firsts = [f for f in shape.key if f not in shape.relationships]
        self.label_field = firsts[0] if firsts else None

    def run(self, plans: list[Plan], verify: Verify) -> dict[int, WriteResult]:
        """Results by input index for `plans` (all creates or updates)."""
        pending = deque(self._jobs(plans))
        active: dict[str, _Job] = {}
        results: dict[int, WriteResult] = {}
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        while pending or active:
            while pending and len(active) < MAX_QUEUED and self._submit(pending[0]):
                job = pending.popleft()
                if job.id is None:
                    results.update(self._outcomes(job, verify))
                else:
                    active[job.id] = job
            if not active and not pending:
                break
            if time.monotonic() > deadline:
                for job in [*active.values(), *pending]:
                    self._interrupt(job)
                    results.update(self._outcomes(job, verify))
                break
            time.sleep(delay)
            delay = min(delay * 1.5, MAX_POLL)
            for job in self._finished(active) if active else []:
                del active[str(job.id)]
                results.update(self._outcomes(job, verify))
        return results

    # -- building and sending ----------------------------------------------------------------

    def _input(self, plan: Plan) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if plan.current is not None:
            item["id"] = plan.current.get("id")
        label = self.label_field
        if label is not None and label in plan.desired.attributes:
            item[label] = plan.desired.attributes[label]
        item.update(plan.attributes)
        for name, target in plan.relationships.items():
            if name != self.parent:
                item[f"{name}_id"] = target
        return item

    def _jobs(self, plans: list[Plan]) -> list[_Job]:
        groups: dict[str | None, list[Plan]] = {}
        for plan in plans:
            parent = plan.desired.relationships.get(self.parent) if self.parent else None
            groups.setdefault(parent, []).append(plan)
        return [
            _Job(group[start : start + self.size], [], parent)
            for parent, group in groups.items()
            for start in range(0, len(group), self.size)
        ]

    def _submit(self, job: _Job) -> bool:
        """Create the import; False when the organization's queue is full (try again later)."""
        job.inputs = [self._input(plan) for plan in job.plans]
        attributes: dict[str, Any] = {
            "resource_type": self.shape.type,
            "format": "json",
            "inputs": job.inputs,
            "skip_errors": self.skip_errors,
        }
        if job.parent is not None:
            attributes["parent_resource_id"] = job.parent
        keyed = all(p.current is not None or p.desired.key is not None for p in job.plans)
        body = {"data": {"type": "imports", "attributes": attributes}}
        try:
            response = self.api.request("POST", "imports", json=body, safe_retry=keyed)
        except ApiError as error:
            if any((e.get("meta") or {}).get("error") == "too_many_imports" for e in error.errors):
                return False
            job.failed = error
            return True
        job.id = str(response.json()["data"]["id"])
        return True

    def _finished(self, active: dict[str, _Job]) -> list[_Job]:
        params = {
            "filter[q][id_in]": ",".join(active),
            "fields[imports]": "status",
            "page[size]": len(active),
        }
        body = self.api.request("GET", "imports", params=params).json()
        done = []
        for item in body.get("data") or []:
            job = active.get(str(item.get("id")))
            if job is not None and (item.get("attributes") or {}).get("status") in FINISHED:
                job.final = self._read(str(job.id))
                done.append(job)
        return done

    def _read(self, import_id: str) -> dict[str, Any]:
        fields = "status,errors_count,errors_log,processed_count,inputs_size"
        body = self.api.request("GET", f"imports/{import_id}", params={"fields[imports]": fields})
        attributes: dict[str, Any] = body.json()["data"].get("attributes") or {}
        return attributes

    def _interrupt(self, job: _Job) -> None:
        if job.id is None:
            return
        body = {"data": {"type": "imports", "id": job.id, "attributes": {"_interrupt": True}}}
        with suppress(ApiError):  # already finished: its records are read back either way
            self.api.request("PATCH", f"imports/{job.id}", json=body)
        job.final = self._read(job.id)

    # -- what happened to each input ---------------------------------------------------------

    def _labels(self, job: _Job) -> dict[str, list[int]]:
        """errors_log names → positions in the job: the label field's value, else the index."""
        labels: dict[str, list[int]] = {}
        for index, item in enumerate(job.inputs):
            value = item.get(self.label_field) if self.label_field else None
            name = str(index) if value in (None, "") else str(value)
            labels.setdefault(name, []).append(index)
        return labels

    def _outcomes(self, job: _Job, verify: Verify) -> dict[int, WriteResult]:
        if job.failed is not None:
            error = job.failed
            return {
                p.desired.index: WriteResult(
                    p.desired.label, "failed", code=error.code, message=f"import refused: {error}"
                )
                for p in job.plans
            }
        log = job.final.get("errors_log") or {}
        labels = self._labels(job)
        problems: dict[int, str] = {}
        unmatched = False
        for name, detail in log.items():
            positions = labels.get(str(name))
            if positions is None:
                unmatched = True
            for position in positions or []:
                problems[position] = _message(detail)
        if job.final.get("status") == "completed" and not unmatched:
            return {
                p.desired.index: self._told(p, problems.get(i)) for i, p in enumerate(job.plans)
            }
        return self._confirmed(job, problems, verify)

    def _told(self, plan: Plan, problem: str | None) -> WriteResult:
        label = plan.desired.label
        if problem is not None:
            return WriteResult(label, "failed", code="IMPORT_ERROR", message=problem)
        record_id = None if plan.current is None else plan.current.get("id")
        return WriteResult(label, OUTCOMES[plan.action], id=record_id)

    def _confirmed(
        self, job: _Job, problems: dict[int, str], verify: Verify
    ) -> dict[int, WriteResult]:
        """Outcomes read back from the platform (module docstring)."""
        found = verify([p.desired for p in job.plans if p.desired.identity is not None])
        status = job.final.get("status") or "unknown"
        results = {}
        for position, plan in enumerate(job.plans):
            desired = plan.desired
            matches = found.get(desired.identity or ()) if desired.identity else None
            if matches and len(matches) == 1:
                attributes, relationships = self.shape.changes(desired, matches[0])
                if not attributes and not relationships:
                    results[desired.index] = plan.result(record=matches[0])
                    continue
            if position in problems:
                code, message = "IMPORT_ERROR", problems[position]
            elif desired.identity is None:
                code, message = "IMPORT_UNCONFIRMED", f"no key to read it back (import {status})"
            else:
                code, message = "IMPORT_NOT_APPLIED", f"not applied (import {job.id} {status})"
            results[desired.index] = plan.failed(desired, code, message).result()
        return results


def _message(detail: Any) -> str:
    """`{"name": ["can't be blank"]}` → "name can't be blank"."""
    if isinstance(detail, dict):
        return "; ".join(
            f"{name} {text}"
            for name, texts in detail.items()
            for text in (texts if isinstance(texts, list) else [texts])
        )
    return str(detail)
