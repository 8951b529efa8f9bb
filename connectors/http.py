"""A polite HTTP client for connectors: timeouts, a descriptive User-Agent, Retry-After and rate-limit headers
honoured, exponential backoff with full jitter on 429/5xx/network errors.

``PoliteClient.get(url, params=…)`` returns the first response that is neither 429 nor 5xx nor a network error;
4xx other than 429 are returned as they are (the connector decides: 401 → configuration error, 404 → skip). After
``max_attempts`` failed attempts it raises :class:`FetchError`; a poller catches that, counts it and tries again at
its next interval, so a platform outage never stops a connector.

Rate limits, before being told off: when a response says the quota is exhausted (``x-ratelimit-remaining: 0`` with
``x-ratelimit-reset`` as epoch seconds or seconds-from-now, or IETF ``ratelimit-remaining``/``ratelimit-reset``),
the next request to that host waits until the reset. Secrets go in headers passed by the caller; they are never
logged (only the method, the URL without its query string, and the status are).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("luister")
    except PackageNotFoundError:
        v = "dev"
    return f"luister/{v} (self-hosted social listening; +https://github.com/luister/luister)"


USER_AGENT = _user_agent()
log = logging.getLogger("luister.connectors.http")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_S = 900.0
"""Longest single wait we accept from a Retry-After / reset header (a misconfigured server may say a day)."""


class _RedactHttpxUrls(logging.Filter):
    """httpx logs every request at INFO with its full URL; some APIs take their key in the query (YouTube's
    ``key=``), so the query string is cut from those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactHttpxUrls())


class FetchError(RuntimeError):
    """Every attempt failed (network error, 429 or 5xx); ``kind`` is ``network``, ``rate_limited`` or ``http_5xx``."""

    def __init__(self, url: str, kind: str, last: str) -> None:
        super().__init__(f"{redact(url)}: {kind} ({last})")
        self.kind = kind


def redact(url: str) -> str:
    """The URL without its query string (tokens sometimes travel there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date), or ``None`` if absent/unparseable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(when - (now if now is not None else time.time()), 0.0)


def rate_limit_reset_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until the quota resets when the response says none is left, else ``None``.

    Understands ``x-ratelimit-remaining``/``x-ratelimit-reset`` (Reddit, Mastodon, GitHub style: the reset is
    epoch seconds, an ISO date (Mastodon) or seconds from now), X's ``x-rate-limit-remaining``/``x-rate-limit-reset``
    (epoch seconds) and ``ratelimit-remaining``/``ratelimit-reset``.
    """
    now = now if now is not None else time.time()
    for prefix in ("x-ratelimit-", "x-rate-limit-", "ratelimit-"):
        remaining = headers.get(prefix + "remaining")
        reset = headers.get(prefix + "reset")
        if remaining is None or reset is None:
            continue
        try:
            if float(remaining) > 0:
                return None
        except ValueError:
            continue
        try:
            value = float(reset)
        except ValueError:
            try:
                from datetime import datetime

                return max(datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now, 0.0)
            except ValueError:
                continue
        # Epoch seconds are > 1e9; anything smaller is seconds from now.
        return max(value - now, 0.0) if value > 1e9 else max(value, 0.0)
    return None


class PoliteClient:
    """One ``httpx.AsyncClient`` with the politeness rules above. Use as ``async with PoliteClient() as http``.

    ``on_wait(kind, seconds)`` is called before every wait (``rate_limit`` or ``backoff``) so metrics can count them;
    ``sleep`` is injectable so tests need not wait for real.
    """

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 20.0,
        max_attempts: int = 5,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        on_wait: Callable[[str, float], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
            transport=transport,
        )
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.on_wait = on_wait
        self.sleep = sleep
        self._not_before: dict[str, float] = {}

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        host = urlsplit(url).netloc or str(self.client.base_url)
        kind, last = "network", ""
        for attempt in range(self.max_attempts):
            await self._respect_quota(host)
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.TransportError as error:  # connect/read timeouts, refused, reset, protocol errors
                kind, last = "network", type(error).__name__
                log.warning("%s %s: %s (attempt %d)", method, redact(url), last, attempt + 1)
                await self._wait("backoff", self._backoff(attempt))
                continue
            self._remember_quota(host, response.headers)
            if response.status_code not in RETRY_STATUS:
                return response
            kind = "rate_limited" if response.status_code == 429 else "http_5xx"
            last = f"HTTP {response.status_code}"
            log.warning("%s %s: %s (attempt %d)", method, redact(url), last, attempt + 1)
            told = retry_after_seconds(response.headers)
            if told is None and response.status_code == 429:
                told = rate_limit_reset_seconds(response.headers)
            await response.aclose()
            if told is not None:
                await self._wait("rate_limit", min(told, MAX_WAIT_S))
            else:
                await self._wait("backoff", self._backoff(attempt))
        raise FetchError(url, kind, last)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base·2^attempt)] (AWS architecture blog's recommendation)."""
        return random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))

    async def _wait(self, kind: str, seconds: float) -> None:
        if self.on_wait is not None:
            self.on_wait(kind, seconds)
        await self.sleep(seconds)

    def _remember_quota(self, host: str, headers: Mapping[str, str]) -> None:
        reset = rate_limit_reset_seconds(headers)
        if reset is not None:
            self._not_before[host] = time.monotonic() + min(reset, MAX_WAIT_S)

    async def _respect_quota(self, host: str) -> None:
        until = self._not_before.pop(host, None)
        if until is not None and (delay := until - time.monotonic()) > 0:
            await self._wait("rate_limit", delay)
