"""Owned-channel webhook receiver (Meta Graph style, plus a simple generic JSON shape).

An ``aiohttp.web`` server (127.0.0.1 by default) answers:

- ``GET <path>``: the subscription handshake. ``hub.mode=subscribe`` and a ``hub.verify_token`` equal (constant-time)
  to the configured verify token → 200 with ``hub.challenge``; anything else → 403.
- ``POST <path>``: an event delivery. In order: body larger than ``max_body_bytes`` → 413 (refused from
  ``Content-Length`` before reading, or as soon as a chunked body passes the limit); ``X-Hub-Signature-256`` missing
  or not ``sha256=<HMAC-SHA256(app secret, raw body)>`` → 401; every event older (or further in the future) than
  ``replay_window_s`` → 409 and dead-lettered as ``Rejected(reason="replay")``; otherwise the events become one
  :class:`~connectors.base.Batch` (mentions + rejects) on a bounded queue, and the reply is sent only once the
  runner calls ``Batch.on_durable``: 200 then, 503 if that takes longer than ``durable_timeout_s`` (the platform
  retries; the pipeline's id dedup absorbs a batch that was kept after all). A full queue → 503 with Retry-After.

Payload shapes: Meta ``{"object": "page"|"instagram", "entry": [{"id", "time", "changes": [{"field", "value"}],
"messaging": [...]}]}`` (page feed posts and comments, Instagram comments, Messenger messages), or a generic
``{"platform", "id", "text", "author", "created_at", ...}`` object (or a JSON array of them).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, FilePath, SecretStr, ValidationError

from connectors.base import Batch, Connector, Rejected, State
from connectors.sources.common import mention_source, read_secret
from connectors.sources.payloads import decode_json_body, mention_or_reject, parse_time
from connectors.sources.webhook_events import EventContext, events_from_payload
from pipeline.schema import utcnow

SOURCE = "webhook"
log = logging.getLogger("luister.connectors.webhook")

SIGNATURE_HEADER = "X-Hub-Signature-256"


class WebhookConfig(BaseModel):
    """Options of a webhook receiver. The verify token and app secret are read from the environment variables
    named by ``verify_token_env`` and ``app_secret_env`` (or from ``secrets_file``)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535, description="0 picks a free port (tests)")
    path: str = Field("/webhook", pattern=r"^/")
    verify_token_env: str = "LUISTER_WEBHOOK_VERIFY_TOKEN"
    app_secret_env: str = "LUISTER_WEBHOOK_APP_SECRET"
    secrets_file: FilePath | None = Field(None, description="KEY=VALUE lines read instead of the environment")
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    replay_window_s: float = Field(300.0, gt=0, description="events older or newer than this are refused as replays")
    timestamp_header: str = Field("X-Webhook-Timestamp", description="epoch seconds of the delivery, if sent")
    durable_timeout_s: float = Field(10.0, gt=0)
    queue_size: int = Field(64, ge=1, description="deliveries waiting for the runner; beyond it 503")
    brand_ids: list[str] = Field(default_factory=list, description="sender ids/handles that are the brand itself")


class WebhookConnector(Connector):
    source = SOURCE

    def __init__(
        self,
        config: WebhookConfig,
        name: str | None = None,
        *,
        verify_token: SecretStr,
        app_secret: SecretStr,
        clock: Any = time.time,
    ) -> None:
        super().__init__(name)
        self.config = config
        self._verify_token = verify_token
        self._app_secret = app_secret
        self._clock = clock
        self._queue: asyncio.Queue[Batch] = asyncio.Queue(maxsize=config.queue_size)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The port actually bound (after :meth:`start`)."""

    async def start(self) -> None:
        """Bind and serve; idempotent. :meth:`batches` calls it; tests call it to learn the port first."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=self.config.max_body_bytes)
        app.router.add_get(self.config.path, self._handle_verify)
        app.router.add_post(self.config.path, self._handle_event)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.config.port
        log.info("webhook %s listening on %s:%s%s", self.name, self.config.host, self.port, self.config.path)

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        await self.start()
        while True:
            yield await self._queue.get()

    async def _handle_verify(self, request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        expected = self._verify_token.get_secret_value()
        token_ok = hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8"))
        if query.get("hub.mode") == "subscribe" and token_ok and "hub.challenge" in query:
            return web.Response(text=query["hub.challenge"])
        log.warning("webhook %s: verification refused (mode=%r)", self.name, query.get("hub.mode"))
        return web.Response(status=403, text="verification failed")

    async def _handle_event(self, request: web.Request) -> web.Response:
        limit = self.config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return _close(web.Response(status=413, text="payload too large"))
        body = await _read_at_most(request, limit)
        if body is None:
            return _close(web.Response(status=413, text="payload too large"))
        if not self._signature_ok(request.headers.get(SIGNATURE_HEADER), body):
            return web.Response(status=401, text="missing or bad signature")

        now = datetime.fromtimestamp(self._clock(), UTC)
        payload, not_json = decode_json_body(body, request.headers.get("Content-Type", ""))
        if not_json is not None:
            self._dead_letter(not_json)
            return web.Response(status=400, text=not_json.reason)
        header_time = request.headers.get(self.config.timestamp_header)
        if header_time is not None and not self._fresh(_header_epoch(header_time), now):
            self._dead_letter(Rejected.of("replay", f"{self.config.timestamp_header}={header_time!r}", body))
            return web.Response(status=409, text="replay")

        context = EventContext(
            source=mention_source(SOURCE, self.name), fetched_at=utcnow(), brand_ids=frozenset(self.config.brand_ids)
        )
        batch = Batch(fetched=0)
        replays = 0
        for event in events_from_payload(payload, context):
            batch.fetched += 1
            if isinstance(event, Rejected):
                batch.rejected.append(event)
                continue
            fields, raw = event
            event_time = fields.pop("_event_time", None) or fields.get("created_at")
            if not self._fresh(event_time, now):
                replays += 1
                batch.rejected.append(Rejected.of("replay", f"event time {event_time} outside the window", raw))
                continue
            mention = mention_or_reject(fields, raw)
            if isinstance(mention, Rejected):
                batch.rejected.append(mention)
                continue
            batch.mentions.append(mention)
            batch.newest = max(batch.newest, mention.created_at) if batch.newest else mention.created_at

        if replays and not batch.mentions:
            # Nothing new in it: refuse the delivery, but keep the evidence.
            self._dead_letter(*batch.rejected)
            return web.Response(status=409, text="replay")
        return await self._hand_over(batch)

    async def _hand_over(self, batch: Batch) -> web.Response:
        loop = asyncio.get_running_loop()
        durable: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            if not durable.done():
                durable.set_result(None)

        def on_durable() -> None:
            loop.call_soon_threadsafe(resolve)

        batch.on_durable = on_durable
        try:
            self._queue.put_nowait(batch)
        except asyncio.QueueFull:
            log.warning("webhook %s: queue full, asking the platform to retry", self.name)
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        try:
            await asyncio.wait_for(asyncio.shield(durable), self.config.durable_timeout_s)
        except TimeoutError:
            log.warning(
                "webhook %s: batch not durable after %.1fs, answering 503", self.name, self.config.durable_timeout_s
            )
            return web.Response(status=503, text="not stored yet", headers={"Retry-After": "5"})
        return web.Response(text="ok")

    def _dead_letter(self, *rejected: Rejected) -> None:
        """Queue rejects without waiting for them to be durable (the reply to the platform does not depend on it)."""
        try:
            self._queue.put_nowait(Batch(rejected=list(rejected), fetched=len(rejected)))
        except asyncio.QueueFull:
            log.warning("webhook %s: queue full, %d reject(s) not dead-lettered", self.name, len(rejected))

    def _signature_ok(self, header: str | None, body: bytes) -> bool:
        if not header or not header.startswith("sha256="):
            return False
        digest = hmac.new(self._app_secret.get_secret_value().encode("utf-8"), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode("ascii", "replace"), digest.encode())

    def _fresh(self, event_time: Any, now: datetime) -> bool:
        """Within the replay window. An event without a usable time passes here (validation then rejects a bad one)."""
        when = event_time if isinstance(event_time, datetime) else parse_time(event_time)
        if when is None:
            return True
        return abs(now - when) <= timedelta(seconds=self.config.replay_window_s)


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or ``None`` as soon as more than ``limit`` bytes arrived (a chunked body has no Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _header_epoch(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value  # maybe ISO; parse_time decides


def _close(response: web.Response) -> web.Response:
    # The unread body stays on the socket: do not reuse this connection for another request.
    response.force_close()
    return response


def build(name: str, options: Mapping[str, Any]) -> WebhookConnector:
    """A webhook receiver from its options; the verify token and app secret must be set."""
    try:
        config = WebhookConfig.model_validate(dict(options))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"webhook connector {name!r}: bad options: {problems}") from None
    secrets = {}
    for what, env in (("verify token", config.verify_token_env), ("app secret", config.app_secret_env)):
        value = read_secret(env, config.secrets_file)
        if value is None:
            where = f"{config.secrets_file}" if config.secrets_file else "the environment"
            raise ValueError(f"webhook connector {name!r}: the {what} is not set ({env} in {where})")
        secrets[what] = SecretStr(value)
    return WebhookConnector(config, name, verify_token=secrets["verify token"], app_secret=secrets["app secret"])
