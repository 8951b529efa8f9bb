"""retry_until_done: retries transient errors with doubling delays, raises permanent ones at once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pipeline.retry import retry_until_done

log = logging.getLogger("test")


def test_transient_errors_are_retried_until_it_works() -> None:
    calls: list[int] = []
    seen: list[BaseException] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "done"

    assert asyncio.run(retry_until_done("x", attempt, log, on_error=seen.append)) == "done"
    assert len(calls) == 3 and all(isinstance(e, ConnectionError) for e in seen) and len(seen) == 2


def test_a_permanent_error_is_raised_at_once() -> None:
    calls: list[int] = []

    async def attempt() -> None:
        calls.append(1)
        raise ValueError("refused")

    with pytest.raises(ValueError):
        asyncio.run(retry_until_done("x", attempt, log, permanent=lambda e: isinstance(e, ValueError)))
    assert calls == [1]
