"""The isolating write: transient failures retry the same rows and token; permanent ones narrow down to the rows
the database refuses alone, and rows that are only refused together end up written."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pipeline.steps.isolate import write_isolating


class RefusedError(Exception):
    permanent = True


class DownError(Exception):
    permanent = False


def permanent(exc: BaseException) -> bool:
    return bool(getattr(exc, "permanent", False))


class FakeTable:
    """Refuses any insert containing a row in ``bad`` or more than ``max_rows`` rows; down for ``down`` calls."""

    def __init__(self, bad: set[int] = frozenset(), max_rows: int = 10_000, down: int = 0) -> None:
        self.bad, self.max_rows, self.down = set(bad), max_rows, down
        self.stored: list[int] = []
        self.calls: list[tuple[tuple[int, ...], str]] = []

    async def write(self, rows: Sequence[int], token: str) -> None:
        self.calls.append((tuple(rows), token))
        if self.down:
            self.down -= 1
            raise DownError("connection refused")
        if len(rows) > self.max_rows or self.bad & set(rows):
            raise RefusedError(f"refused {list(rows)}")
        self.stored.extend(rows)


async def no_wait(exc: BaseException, attempt: int) -> None:
    waits.append(attempt)


waits: list[int] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    waits.clear()


async def test_transient_failures_retry_the_same_rows_and_token() -> None:
    table = FakeTable(down=3)
    refused = await write_isolating(list(range(8)), "t", table.write, is_permanent=permanent, on_transient=no_wait)
    assert refused == []
    assert table.stored == list(range(8))
    assert [c for c in table.calls] == [(tuple(range(8)), "t")] * 4
    assert waits == [0, 1, 2]


async def test_bad_rows_are_isolated_and_every_good_row_is_stored_once() -> None:
    table = FakeTable(bad={3, 11})
    refused = await write_isolating(list(range(16)), "t", table.write, is_permanent=permanent, on_transient=no_wait)
    assert sorted(row for row, _ in refused) == [3, 11]
    assert all(isinstance(exc, RefusedError) for _, exc in refused)
    assert sorted(table.stored) == [r for r in range(16) if r not in (3, 11)]
    tokens = [token for _, token in table.calls]
    assert len(tokens) == len(set(tokens)), "every sub-batch is written under its own token"
    assert len(table.calls) <= 1 + 2 * 2 * 4, "at most 2·k·log2(n) extra inserts"


async def test_rows_refused_only_together_are_all_written_in_parts() -> None:
    table = FakeTable(max_rows=5)
    refused = await write_isolating(list(range(23)), "t", table.write, is_permanent=permanent, on_transient=no_wait)
    assert refused == []
    assert sorted(table.stored) == list(range(23))


async def test_a_transient_failure_inside_a_split_still_retries() -> None:
    table = FakeTable(bad={0})
    calls = 0

    async def flaky(rows: Sequence[int], token: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the second half's first attempt
            raise DownError("timeout")
        await table.write(rows, token)

    refused = await write_isolating(list(range(4)), "t", flaky, is_permanent=permanent, on_transient=no_wait)
    assert [row for row, _ in refused] == [0]
    assert sorted(table.stored) == [1, 2, 3]
    assert waits == [0]
