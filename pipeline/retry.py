"""Retrying a step the worker must not skip (a publish, a store) until it works, with capped doubling delays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 30.0


async def retry_until_done(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    log: logging.Logger,
    *,
    permanent: Callable[[BaseException], bool] = lambda exc: False,
    on_error: Callable[[BaseException], None] | None = None,
) -> T:
    """Await ``attempt()`` until it returns. Errors for which ``permanent`` is true are raised at once; any other
    is logged (and passed to ``on_error``) and retried after 0.2 s, 0.4 s, … up to 30 s. Meanwhile the caller's
    batch is neither skipped nor committed."""
    delay = FIRST_DELAY_S
    while True:
        try:
            return await attempt()
        except Exception as exc:  # a broken dependency must not kill the worker
            if permanent(exc):
                raise
            log.error("%s failed (%r); retrying in %.1fs without committing", what, exc, delay)
            if on_error is not None:
                on_error(exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
