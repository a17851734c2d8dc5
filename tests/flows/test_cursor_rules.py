"""The cursor's rules on their own: where the next read starts, what it lists as seen (and how
many at most), and which flow edits count as a changed mapping."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cartwire.flows import cursor as cursor_module
from cartwire.flows import load_flow
from cartwire.flows.cursor import SETTLE, Cursor, Window, mapping_digest
from tests.flows.support import REGISTRY, as_text, minimal

T = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T_TEXT = "2026-01-01T12:00:00.000Z"


def _saved(window: Window) -> Cursor:
    position = window.position("digest")
    loaded = Cursor.load(position, SETTLE)
    assert loaded is not None
    return loaded


def test_inside_the_margin_the_next_read_starts_at_the_horizon_and_lists_what_it_saw() -> None:
    window = Window(SETTLE, start=None)
    window.served(T + timedelta(seconds=5))  # the platform's Date: 5 s after the bulk load
    for key in ("a", "b"):
        window.saw(T_TEXT, key)
    cursor = _saved(window)
    assert cursor.since == T + timedelta(seconds=5) - SETTLE
    assert cursor.taken(T, "a")
    assert cursor.taken(T, "b")
    assert not cursor.taken(T, "c")  # a late write at the same instant is processed
    assert not cursor.taken(T + timedelta(milliseconds=1), "a")  # so is a change of "a"


def test_past_the_margin_the_next_read_starts_just_after_the_newest_change() -> None:
    window = Window(SETTLE, start=None)
    window.served(T + timedelta(hours=1))
    window.saw(T_TEXT, "a")
    position = window.position("digest")
    assert position is not None
    assert position["seen"] == {}
    assert position["since"] == (T + timedelta(milliseconds=1)).isoformat()
    cursor = _saved(window)
    assert cursor.taken(T, "anything")  # a coarser time filter returning it: passed over


def test_without_a_date_header_the_margin_counts_back_from_the_newest_change() -> None:
    window = Window(SETTLE, start=None)
    window.saw(T_TEXT, "a")
    window.saw("2026-01-01T11:58:00.000Z", "old")  # two minutes older: not listed
    cursor = _saved(window)
    assert cursor.since == T - SETTLE
    assert cursor.seen == {T: {"a"}}


def test_the_next_read_never_starts_before_this_one() -> None:
    start = T - timedelta(seconds=10)
    window = Window(SETTLE, start=start)
    window.served(T)  # horizon T - 60 s, before where this read started
    window.saw(T_TEXT, "a")
    assert _saved(window).since == start


def test_the_seen_list_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cursor_module, "SEEN_LIMIT", 3)
    window = Window(SETTLE, start=None)
    window.served(T)
    keys = [f"id-{i}" for i in range(5)]
    for key in keys:
        window.saw(T_TEXT, key)
    cursor = _saved(window)
    listed = [k for k in keys if cursor.taken(T, k)]
    assert len(listed) == 3  # the others are processed again next time: slower, never lost


def test_a_cursor_of_the_old_shape_reads_as_newest_minus_the_margin() -> None:
    cursor = Cursor.load({"updated_at": T_TEXT}, SETTLE)
    assert cursor == Cursor(T - SETTLE, {}, None)


def _digest(**parts: Any) -> str:
    tables = parts.pop("tables", {})
    flow = load_flow(as_text(minimal(**parts)), registry=REGISTRY)
    return mapping_digest(flow, tables)


MAP = [{"map": {"fields": {"code": "key"}}}]


def test_what_changes_the_mapping_digest() -> None:
    base = _digest(steps=MAP)
    same = [
        _digest(steps=MAP, description="another", version=3),
        _digest(steps=MAP, settings={"batch_size": 7, "retries_per_record": 0}),
        _digest(steps=MAP, triggers=[{"schedule": "0 * * * *"}]),
        _digest(
            steps=MAP,
            source={"connector": "commercetools", "endpoint": "products", "page_size": 20},
        ),
    ]
    assert same == [base] * len(same)
    changed = [
        _digest(steps=[{"map": {"fields": {"code": "key", "name": "name.en"}}}]),
        _digest(
            steps=MAP,
            destination={"connector": "commercelayer", "endpoint": "skus", "mode": "create-only"},
        ),
        _digest(
            steps=MAP,
            source={
                "connector": "commercetools",
                "endpoint": "products",
                "filters": {"where": 'key = "x"'},
            },
        ),
    ]
    assert base not in changed
    assert len(set(changed)) == len(changed)


def test_a_changed_lookup_table_changes_the_digest() -> None:
    steps = [
        {"map": {"fields": {"code": {"from": "key", "transform": [{"lookup": {"table": "t"}}]}}}}
    ]
    one = _digest(steps=steps, tables={"t": {"a": "1"}})
    assert _digest(steps=steps, tables={"t": {"a": "1"}}) == one
    assert _digest(steps=steps, tables={"t": {"a": "2"}}) != one
