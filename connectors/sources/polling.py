"""What every polling source shares: the poll loop around one round of requests, and answering HTTP statuses.

A :class:`PollingConnector` implements :meth:`~PollingConnector.poll_round` (one pass over its timelines/queries,
yielding a :class:`~connectors.base.Batch` per page); :meth:`~PollingConnector.batches` repeats it every
``poll_interval_s``, carrying the newest cursor from one round to the next. A round that fails after the HTTP
client's retries (:class:`~connectors.http.FetchError`) is logged and retried at the next interval.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from connectors.base import Batch, Connector, Rejected, State
from connectors.http import FetchError, PoliteClient, redact
from connectors.sources.payloads import decode_json_response

log = logging.getLogger("luister.connectors.polling")

Sleep = Callable[[float], Awaitable[None]]


class SourceAuthError(RuntimeError):
    """The platform refused our credentials (401/403): a configuration problem that retrying will not fix."""


class QuotaExhaustedError(RuntimeError):
    """The platform's quota is used up until ``wait_s`` from now (YouTube's daily quota): wait, do not crash."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class PollingConnector(Connector):
    """A source that asks the platform for news every ``poll_interval_s``."""

    def __init__(
        self,
        name: str | None,
        *,
        lookback: timedelta,
        poll_interval_s: float,
        http: PoliteClient | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(name, lookback=lookback)
        self.poll_interval_s = poll_interval_s
        self.http = http or PoliteClient(sleep=sleep)
        self.sleep = sleep

    @abc.abstractmethod
    def poll_round(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        """One pass over everything this source follows, starting from ``state`` (a copy the round may keep)."""

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        current: dict[str, Any] = dict(state)
        while True:
            try:
                async for batch in self.poll_round(dict(current)):
                    if batch.state is not None:
                        current = batch.state
                    yield batch
            except FetchError as error:
                log.warning("%s: poll failed, retrying in %.0fs: %s", self.name, self.poll_interval_s, error)
            except QuotaExhaustedError as error:
                log.warning("%s: %s; waiting %.0fs", self.name, error, error.wait_s)
                await self.sleep(error.wait_s)
                continue
            await self.sleep(self.poll_interval_s)

    async def aclose(self) -> None:
        await self.http.aclose()

    def check_quota(self, response: httpx.Response) -> None:
        """Raise :class:`QuotaExhaustedError` when ``response`` says the quota is used up (platform-specific)."""

    async def get_json(
        self, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[Any, Rejected | None, httpx.Response]:
        """GET ``url`` and decode JSON.

        Retryable failures raise :class:`FetchError` (from the client); a used-up quota raises
        :class:`QuotaExhaustedError` (see :meth:`check_quota`); other 401/403 raise :class:`SourceAuthError`;
        another non-2xx or a body that is not JSON comes back as a :class:`Rejected` (``http_<status>``,
        ``html_error_page``, ``not_json``) for the caller to dead-letter.
        """
        response = await self.http.get(url, params=params, headers=headers)
        self.check_quota(response)
        if response.status_code in (401, 403):
            raise SourceAuthError(f"{self.name}: {redact(url)} answered {response.status_code}: check the credentials")
        if not 200 <= response.status_code < 300:
            return None, Rejected.of(f"http_{response.status_code}", f"GET {redact(url)}", response.content), response
        value, rejected = decode_json_response(response)
        return value, rejected, response
