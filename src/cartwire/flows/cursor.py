"""The incremental cursor of a (flow, source, destination): where its next read starts, which
records that read has already had, and which mapping they were written with.

Why more than a time: a write can become visible to readers late (replication, clock skew
between a platform's servers), so a read cannot start right after the newest change the last one
saw; it starts a settle margin earlier. Records changed shortly before a run (a bulk load shares
one instant) then fall inside that margin on the next run too, and each one would be looked up
at the destination again for nothing. So the cursor lists the records the read took in at or
after where the next read starts, as (updated-at, id) exactly as the platform gave them; the
next read passes over those before they are processed, and processes only the others: records
changed since (a new updated-at) and writes that became visible late.

Where the next read starts comes from the platform's clocks, never this machine's: the records'
updated-at values and the `Date` header of the read's first page (the platform's time as the
read began). A change older than the settle margin at that moment had time to become visible,
so the read saw it: nothing before `horizon = Date - settle` can still turn up. The next read
starts at the horizon; or, when the horizon is past the newest change seen, just after that
change (everything up to it was visible), so a re-run with nothing changed asks only for
strictly newer changes and reads one empty page. Only records changed within the margin before
the read began, or during it, are listed — at most SEEN_LIMIT ids (about 4 MB of JSON for
36-character ids): any record not listed is simply processed again (and comes
out "unchanged"), so the limit can cost time, never a record. Without a `Date` header the
horizon falls back to the newest change seen minus the margin.

This beats starting the read after (newest updated-at, last id), which a keyset over both
fields could express: that would skip a late write inside the margin, and a filter on time
alone (one with no tuple comparison) cannot express it at all; "since T + 1 ms" works for
both, and only once it is safe.

The mapping digest covers what decides what gets written (source, steps, outputs, the lookup
tables' contents); a cursor whose digest differs was left by records written another way, so
the next run is a full one. Cursors saved before either existed (`{"updated_at": T}`) read as
"since T - settle, nothing listed, mapping unknown" (taken as unchanged).
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cartwire.flows.schema import Flow

SETTLE = timedelta(seconds=60)  # how late a write may become visible (see the module docstring)
SEEN_LIMIT = 100_000
_JUST_AFTER = timedelta(milliseconds=1)  # both platforms keep updated-at in milliseconds

Seen = dict[datetime, set[str]]


def instant(value: Any) -> datetime | None:
    """An updated-at value as an aware datetime (naive means UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """A saved cursor, read back."""

    since: datetime | None  # where the next read starts (inclusive)
    seen: Seen = field(default_factory=dict)  # updated-at → ids already processed, all >= since
    mapping: str | None = None  # the digest of the mapping its records were written with

    @classmethod
    def load(cls, position: Mapping[str, Any] | None, settle: timedelta) -> "Cursor | None":
        if not position:
            return None
        seen: Seen = {}
        for text, ids in (position.get("seen") or {}).items():
            at = instant(text)
            if at is not None and isinstance(ids, list):
                seen[at] = {str(key) for key in ids}
        since = instant(position.get("since"))
        if since is None:  # a cursor from before `since` was kept: the settle margin applies
            newest = instant(position.get("updated_at"))
            since = newest - settle if newest else None
        mapping = position.get("mapping")
        return cls(since, seen, mapping if isinstance(mapping, str) else None)

    def taken(self, at: datetime | None, key: str | None) -> bool:
        """Whether a record read again was already processed: changed before `since` (a source
        whose time filter is coarser returns such records) or listed as seen."""
        if at is None or self.since is None:
            return False
        return at < self.since or (key is not None and key in self.seen.get(at, ()))


class Window:
    """What a read has seen that its cursor must keep, built page by page."""

    def __init__(
        self,
        settle: timedelta,
        *,
        start: datetime | None,
        newest: str | None = None,
        horizon: datetime | None = None,
    ) -> None:
        self.settle = settle
        self.start = start  # where this read started: everything before was already processed
        self.newest = newest  # the newest updated-at seen, as the platform wrote it
        self._newest_at = instant(newest)
        self.horizon = horizon  # the first page's Date minus settle: older changes were visible
        self._seen: Seen = {}
        self._count = 0

    def served(self, moment: datetime | None) -> None:
        """A page answered at `moment` (server time): the horizon is the earliest such time
        minus the margin, so a server whose Date goes backwards cannot move it on."""
        if moment is None:
            return
        at = moment - self.settle
        self.horizon = at if self.horizon is None or at < self.horizon else self.horizon

    def saw(self, value: Any, key: str | None) -> None:
        """A record read with updated-at `value` and id `key` (processed or passed over)."""
        at = instant(value)
        if at is None:
            return
        if self._newest_at is None or at > self._newest_at:
            self.newest, self._newest_at = value, at
        if key is None or self._count >= SEEN_LIMIT or at < self._threshold():
            return
        ids = self._seen.setdefault(at, set())
        if key not in ids:
            ids.add(key)
            self._count += 1

    def _threshold(self) -> datetime:
        """Records older than this can never be listed (the next read starts after them)."""
        assert self._newest_at is not None
        return self.horizon if self.horizon is not None else self._newest_at - self.settle

    def position(self, mapping: str) -> dict[str, Any] | None:
        """The cursor to save after the read finished with every record accepted; None when it
        saw no change at all (the saved cursor stays as it is)."""
        if self._newest_at is None:
            return None
        since = min(self._threshold(), self._newest_at + _JUST_AFTER)
        if self.start is not None and self.start > since:
            since = self.start  # never back: what lies before the start was already processed
        seen = {at: ids for at, ids in sorted(self._seen.items()) if at >= since}
        return {
            "updated_at": self.newest,
            "since": since.isoformat(),
            "seen": {at.isoformat(): sorted(ids) for at, ids in seen.items()},
            "mapping": mapping,
        }


def mapping_digest(flow: Flow, tables: Mapping[str, Mapping[str, str]]) -> str:
    """A digest of what decides what a run writes: the source (a new filter lets in records the
    cursor has passed), the steps and the outputs (destination, mode, key), and the contents of
    the lookup tables they read. Not the name, description, version, triggers or settings
    (batch sizes, concurrency, retries change how, not what). Values left at their defaults
    are left out, so a cartwire upgrade that adds an option does not change every digest."""
    parts = flow.model_dump(
        mode="json", include={"source", "steps", "outputs"}, exclude_defaults=True
    )
    parts.get("source", {}).pop("page_size", None)
    parts["lookups"] = {name: dict(sorted(rows.items())) for name, rows in sorted(tables.items())}
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
