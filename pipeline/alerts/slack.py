"""Slack transports over one ``httpx.AsyncClient``: an incoming webhook, or the Web API with a bot token.

Each method is ONE call with the client's timeout and raises a :mod:`pipeline.alerts.errors` error classified by
what the caller must do (rate limited / transient / permanent); pacing, retries and the ledger live in the
notifier. Secrets (the webhook URL, the bot token) are read from the environment or the secrets file at every call,
so an operator who fixes them needs no restart; they never appear in logs or exception messages.

Shapes (Slack's documentation): an incoming webhook answers ``200 ok`` as plain text, or an HTTP error with a
plain-text code (``400 invalid_payload``, ``403 action_prohibited``, ``404 channel_not_found``/``no_service``,
``410 channel_is_archived``, ``429`` with ``Retry-After``, ``500 rollup_error``). The Web API answers JSON
``{"ok": true, ...}`` or ``{"ok": false, "error": "invalid_auth"}`` (HTTP 200), and HTTP 429 with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from connectors.http import USER_AGENT, redact, retry_after_seconds
from connectors.sources.common import read_secret
from pipeline.alerts.errors import PermanentError, RateLimitedError, SlackError, TransientError
from pipeline.alerts.render import METADATA_EVENT_TYPE, Message

log = logging.getLogger("luister.alerts.slack")

RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org", "rollup_error"}
)
MAYBE_DONE_ERRORS = frozenset({"internal_error", "fatal_error", "rollup_error"})
"""Slack: 'it's possible some aspect of the operation succeeded before the error was raised'."""
PAYLOAD_ERRORS = frozenset(
    {
        "invalid_payload",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "missing_text_or_fallback_or_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "too_many_attachments",
    }
)
_JSON = {"Content-Type": "application/json; charset=utf-8"}


class Transport(Protocol):
    """One configured Slack channel. ``threads``: replies can go in a thread and the message's ts is known.
    ``can_look_up``: a post whose outcome is unknown can be found again (by its metadata)."""

    name: str
    threads: bool
    can_look_up: bool

    async def post(self, message: Message, *, thread_ts: str | None, metadata: dict[str, Any]) -> str | None:
        """Post; returns the message ts (None when the transport does not say)."""
        ...

    async def find(self, event_id: str, *, thread_ts: str | None, oldest: datetime) -> str | None:
        """The ts of a message posted since ``oldest`` with our metadata for ``event_id``, if any."""
        ...

    async def read_blocks(self, ts: str) -> list[dict[str, Any]] | None:
        """The blocks of the (top-level) message ``ts``, None when it is gone."""
        ...

    async def update(self, ts: str, message: Message) -> None: ...


def new_http_client(timeout_s: float) -> httpx.AsyncClient:
    """The shared client: a timeout on every call (connect, read, write, pool), luister's User-Agent."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), headers={"User-Agent": USER_AGENT})


class _RedactSecretUrls(logging.Filter):
    """httpx logs every request URL at INFO; an incoming-webhook URL is a credential, so it is cut to its host.
    (The connectors' filter on the same logger may already have turned the URL into a string without its query.)"""

    def __init__(self) -> None:
        super().__init__()
        self.secret_urls: set[str] = set()

    def add(self, url: str) -> None:
        self.secret_urls.add(redact(url))

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and self.secret_urls:
            record.args = tuple(self._scrub(a) for a in record.args)
        return True

    def _scrub(self, arg: object) -> object:
        if isinstance(arg, httpx.URL | str) and redact(str(arg)) in self.secret_urls:
            parts = urlsplit(str(arg))
            return f"{parts.scheme}://{parts.netloc}/***"
        return arg


_redact_filter = _RedactSecretUrls()
logging.getLogger("httpx").addFilter(_redact_filter)


def _classify_transport_error(channel: str, error: httpx.TransportError) -> SlackError:
    # A connection that was never made carried nothing: the outcome is known (not done). Anything after the
    # request may have left (read timeout, reset) may have been carried out by Slack.
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return TransientError(channel, "network", outcome_unknown=False)
    if isinstance(error, httpx.TimeoutException):
        return TransientError(channel, "timeout", outcome_unknown=True)
    return TransientError(channel, "network", outcome_unknown=True)


class WebhookTransport:
    """An incoming webhook: posts only (no ts, no threads, no metadata, no lookups)."""

    threads = False
    can_look_up = False

    def __init__(self, name: str, http: httpx.AsyncClient, url_env: str, secrets_file: Path | None = None) -> None:
        self.name = name
        self.http = http
        self.url_env = url_env
        self.secrets_file = secrets_file

    async def post(self, message: Message, *, thread_ts: str | None, metadata: dict[str, Any]) -> str | None:
        url = read_secret(self.url_env, self.secrets_file)
        if url is None:
            raise PermanentError(self.name, f"webhook_url_missing (set {self.url_env})")
        _redact_filter.add(url)
        body = {**message.payload(), "unfurl_links": False, "unfurl_media": False}
        try:
            response = await self.http.post(url, content=json.dumps(body).encode(), headers=_JSON)
        except httpx.TransportError as error:
            raise _classify_transport_error(self.name, error) from None
        except httpx.InvalidURL:
            raise PermanentError(self.name, f"webhook_url_invalid (check {self.url_env})") from None
        text = response.text.strip()[:100]
        if response.status_code == 200:
            return None
        code = text if text and text.replace("_", "").isalnum() else f"http_{response.status_code}"
        if response.status_code == 429:
            raise RateLimitedError(self.name, "rate_limited", retry_after_seconds(response.headers))
        if response.status_code >= 500:
            raise TransientError(self.name, code, outcome_unknown=True)
        raise PermanentError(self.name, code, payload_problem=code in PAYLOAD_ERRORS)

    async def find(self, event_id: str, *, thread_ts: str | None, oldest: datetime) -> str | None:
        return None

    async def read_blocks(self, ts: str) -> list[dict[str, Any]] | None:
        return None

    async def update(self, ts: str, message: Message) -> None:
        raise PermanentError(self.name, "not_supported_by_webhooks")


class BotTransport:
    """The Web API with a bot token (``chat:write``; ``channels:history``/``groups:history`` for lookups)."""

    threads = True
    can_look_up = True

    def __init__(
        self,
        name: str,
        http: httpx.AsyncClient,
        channel_id: str,
        token_env: str,
        api_url: str = "https://slack.com/api",
        secrets_file: Path | None = None,
        lookup_pages: int = 3,
    ) -> None:
        self.name = name
        self.http = http
        self.channel_id = channel_id
        self.token_env = token_env
        self.api_url = api_url.rstrip("/")
        self.secrets_file = secrets_file
        self.lookup_pages = lookup_pages

    async def _call(
        self, method: str, *, body: Mapping[str, Any] | None = None, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        token = read_secret(self.token_env, self.secrets_file)
        if token is None:
            raise PermanentError(self.name, f"token_missing (set {self.token_env})")
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self.api_url}/{method}"
        try:
            if body is not None:
                response = await self.http.post(url, content=json.dumps(body).encode(), headers={**headers, **_JSON})
            else:
                response = await self.http.get(url, params=params, headers=headers)
        except httpx.TransportError as error:
            raise _classify_transport_error(self.name, error) from None
        if response.status_code == 429:
            raise RateLimitedError(self.name, "ratelimited", retry_after_seconds(response.headers))
        if response.status_code >= 500:
            raise TransientError(self.name, f"http_{response.status_code}", outcome_unknown=True)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status_code >= 400:
                raise PermanentError(self.name, f"http_{response.status_code}")
            raise TransientError(self.name, "not_json", outcome_unknown=True)
        if data.get("ok") is True:
            return data
        code = str(data.get("error") or f"http_{response.status_code}")[:100]
        if code in RATE_LIMIT_ERRORS:
            raise RateLimitedError(self.name, code, retry_after_seconds(response.headers))
        if code in TRANSIENT_ERRORS:
            raise TransientError(self.name, code, outcome_unknown=code in MAYBE_DONE_ERRORS)
        raise PermanentError(self.name, code, payload_problem=code in PAYLOAD_ERRORS)

    async def post(self, message: Message, *, thread_ts: str | None, metadata: dict[str, Any]) -> str | None:
        body: dict[str, Any] = {
            "channel": self.channel_id,
            **message.payload(),
            "metadata": metadata,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            body["thread_ts"] = thread_ts
        data = await self._call("chat.postMessage", body=body)
        ts = data.get("ts")
        if not isinstance(ts, str):
            raise TransientError(self.name, "no_ts_in_response", outcome_unknown=True)
        return ts

    async def update(self, ts: str, message: Message) -> None:
        await self._call("chat.update", body={"channel": self.channel_id, "ts": ts, **message.payload()})

    async def find(self, event_id: str, *, thread_ts: str | None, oldest: datetime) -> str | None:
        params = {
            "channel": self.channel_id,
            "include_all_metadata": "true",
            "limit": "200",
            "oldest": f"{oldest.timestamp():.6f}",
        }
        method = "conversations.history"
        if thread_ts is not None:
            method = "conversations.replies"
            params["ts"] = thread_ts
        cursor = ""
        for _ in range(self.lookup_pages):
            data = await self._call(method, params={**params, "cursor": cursor} if cursor else params)
            for message in data.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_EVENT_TYPE and payload.get("event_id") == event_id:
                    ts = message.get("ts")
                    return ts if isinstance(ts, str) else None
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not data.get("has_more") or not cursor:
                return None
        log.warning("slack channel %r: %s not found in %d pages; posting it", self.name, event_id, self.lookup_pages)
        return None

    async def read_blocks(self, ts: str) -> list[dict[str, Any]] | None:
        data = await self._call(
            "conversations.history",
            params={"channel": self.channel_id, "latest": ts, "oldest": ts, "inclusive": "true", "limit": "1"},
        )
        for message in data.get("messages") or []:
            if message.get("ts") == ts and isinstance(message.get("blocks"), list):
                return list(message["blocks"])
        return None
