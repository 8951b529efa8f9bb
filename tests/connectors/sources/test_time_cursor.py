"""The inclusive-boundary time cursor: what it loads, when it moves, what it remembers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.sources.time_cursor import TimeCursor

T = datetime(2026, 11, 3, 10, 0, 0, 250000, tzinfo=UTC)


def test_load_reads_the_saved_form_the_earlier_bare_time_and_nothing() -> None:
    assert TimeCursor.load({"since": "2026-11-03T10:00:00.250Z", "ids": ["a", "b"]}) == TimeCursor(T, frozenset("ab"))
    assert TimeCursor.load("2026-11-03T10:00:00.250000Z") == TimeCursor(T)
    assert TimeCursor.load(None) == TimeCursor() == TimeCursor.load({"ids": ["a"]})  # ids without a time mean nothing
    assert TimeCursor.load({"since": "2026-11-03T10:00:00.250Z", "ids": "a"}) == TimeCursor(T)
    assert TimeCursor.load({"since": "2026-11-03T10:00:00.250Z", "ids": ["a", 7]}).ids == {"a"}


def test_advances_to_newer_times_and_collects_ids_at_the_same_time() -> None:
    cursor = TimeCursor().advanced("a", T)
    assert cursor == TimeCursor(T, frozenset({"a"}))
    assert cursor.advanced("b", T) == TimeCursor(T, frozenset({"a", "b"}))
    assert cursor.advanced("old", T - timedelta(seconds=1)) is cursor
    assert cursor.advanced("a", T) is cursor
    assert cursor.advanced("c", T + timedelta(milliseconds=1)) == TimeCursor(
        T + timedelta(milliseconds=1), frozenset("c")
    )
    assert cursor.seen("a") and not cursor.seen("b")


def test_dump_round_trips_and_refuses_an_empty_cursor() -> None:
    cursor = TimeCursor(T, frozenset({"b", "a"}))
    assert cursor.dump() == {"since": "2026-11-03T10:00:00.250000Z", "ids": ["a", "b"]}
    assert TimeCursor.load(cursor.dump()) == cursor
    with pytest.raises(ValueError, match="empty"):
        TimeCursor().dump()
