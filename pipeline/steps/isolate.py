"""Write a batch, and if the database refuses some of its rows for good, find exactly those rows.

A transient failure (server down, disk full) is retried on the same rows with the same dedup token until it
works: the batch is neither split nor skipped, and the caller commits nothing meanwhile. A permanent failure
(the rows themselves are refused: a value out of range, a batch spanning too many partitions) splits the batch in
halves, each written under its own token derived from the batch's, recursively; a single row that is still refused
is returned to be dead-lettered. A batch whose rows are each fine but not together (too many partitions) ends up
written in parts and nothing is refused. Cost: at most ``2·k·log2(n)`` extra inserts for ``k`` bad rows in ``n``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

Write = Callable[[Sequence[T], str], Awaitable[object]]
OnTransient = Callable[[BaseException, int], Awaitable[None]]
"""Called after transient failure number ``attempt`` (0-based); it logs and sleeps (the backoff lives there)."""


async def write_isolating(
    rows: Sequence[T],
    token: str,
    write: Write[T],
    *,
    is_permanent: Callable[[BaseException], bool],
    on_transient: OnTransient,
) -> list[tuple[T, BaseException]]:
    """Write ``rows`` under ``token``; return the rows refused for good, each with the error it got alone."""
    attempt = 0
    while True:
        try:
            await write(rows, token)
            return []
        except Exception as exc:
            if not is_permanent(exc):
                await on_transient(exc, attempt)
                attempt += 1
                continue
            if len(rows) <= 1:
                return [(row, exc) for row in rows]
            mid = len(rows) // 2
            first = await write_isolating(
                rows[:mid], f"{token}/a", write, is_permanent=is_permanent, on_transient=on_transient
            )
            second = await write_isolating(
                rows[mid:], f"{token}/b", write, is_permanent=is_permanent, on_transient=on_transient
            )
            return first + second
