"""Delivering incident events to Slack: routing, pacing, retries, threads, and the ledger, in one call.

Contract for the caller (the worker's agent on the ``alerts`` topic): ``await notifier.deliver(event)`` returns only
when the event is delivered to every channel it is routed to, or is known to be delivered there; commit the
event's offset after that. Deliver one incident's events in order and one at a time (the topic is keyed by
``incident_id``; the notifier also serialises per incident). While Slack is down, rate limits, or refuses our
token, ``deliver`` keeps trying and does not return: the alerts consumer waits, nothing else does, and nothing is
lost. Cancelling ``deliver`` (shutdown) is safe: the ledger and Slack's metadata make the redo harmless.

Per notification (event × channel):

1. the ledger says delivered → skip (a replay, or a restart before the offset commit);
2. the channel already has this incident's root message → a short reply in its thread (bot), or a standalone
   short message (incoming webhook: no threads); otherwise a full root message;
3. if an earlier attempt's outcome is unknown (timeout, 5xx, a crash after the attempt was recorded), a bot
   channel first looks for the message by its metadata (``conversations.history`` / ``.replies``) and adopts it;
4. otherwise post, paced per channel (``rate_per_channel``): 429 waits Retry-After; timeouts, network errors and
   5xx back off with full jitter (``retry_base_s`` … ``retry_max_s``); permanent errors (``invalid_auth``,
   ``channel_not_found``, a revoked webhook) are logged as errors and counted, and retried every
   ``permanent_retry_s``; a refused payload is retried once as plain text first;
5. a resolved incident's root is edited to say so (bot, ``mark_resolved``; best effort, bounded retries);
6. the ledger records the delivery (retried until it is stored).

Guarantees: bot channels: exactly once (the attempt is recorded before the post; an unknown outcome is looked up
before a re-post); incoming webhooks: at least once: a post whose answer was lost (timeout, crash between
Slack's ``ok`` and the ledger write) is sent again, because a webhook cannot be asked what it posted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from pipeline.alerts.errors import PermanentError, RateLimitedError, SlackError, TransientError
from pipeline.alerts.ledger import Ledger, LedgerEntry
from pipeline.alerts.metrics import AlertMetrics
from pipeline.alerts.pacing import ChannelPacer
from pipeline.alerts.render import Message, incident_metadata, mark_resolved, render_reply, render_root
from pipeline.alerts.routing import route
from pipeline.alerts.slack import BotTransport, Transport, WebhookTransport, new_http_client
from pipeline.incidents import IncidentEvent
from pipeline.settings import AlertSettings

log = logging.getLogger("luister.alerts")

T = TypeVar("T")
LOOKUP_MARGIN = timedelta(minutes=5)
"""Searched before an attempt's recorded time: Slack's clock and ours may differ."""
LOUD_AFTER = 5
"""Consecutive transient failures after which every further one is logged as an error."""
MARK_ATTEMPTS = 5
THREAD_GONE = frozenset({"thread_not_found", "message_not_found"})


@dataclass(frozen=True)
class _Plan:
    """What one notification posts: the message, the thread it goes in (None: a root message), and whether it
    is a reply to an earlier step (a webhook channel's standalone update is one)."""

    message: Message
    thread_ts: str | None
    reply: bool


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_transports(settings: AlertSettings, http: httpx.AsyncClient) -> dict[str, Transport]:
    """One transport per entry of ``settings.channels``."""
    transports: dict[str, Transport] = {}
    for name, config in settings.channels.items():
        if config.transport == "webhook":
            assert config.webhook_url_env is not None
            transports[name] = WebhookTransport(name, http, config.webhook_url_env, settings.secrets_file)
        else:
            assert config.channel_id is not None
            transports[name] = BotTransport(
                name,
                http,
                config.channel_id,
                config.token_env,
                settings.web_api_url,
                settings.secrets_file,
                settings.lookup_pages,
            )
    return transports


class Notifier:
    """Delivers incident events to the Slack channels their routes name. See the module docstring."""

    def __init__(
        self,
        settings: AlertSettings,
        ledger: Ledger,
        *,
        metrics: AlertMetrics | None = None,
        transports: Mapping[str, Transport] | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.metrics = metrics if metrics is not None else AlertMetrics()
        self._own_http = http is None
        self.http = http if http is not None else new_http_client(settings.timeout_s)
        self.transports: dict[str, Transport] = (
            dict(transports) if transports is not None else build_transports(settings, self.http)
        )
        self.sleep = sleep
        self.now = now
        self.jitter = jitter
        self.pacer = ChannelPacer(1.0 / settings.rate_per_channel, sleep=sleep)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def aclose(self) -> None:
        """Close the HTTP client if the notifier made it."""
        if self._own_http:
            await self.http.aclose()

    async def deliver(self, event: IncidentEvent) -> list[LedgerEntry]:
        """Deliver ``event`` to every channel it is routed to (and every channel already carrying its incident);
        returns the ledger entries, one per channel. Returns only when all are delivered."""
        lock = self._locks.get(event.incident_id)
        if lock is None:
            lock = self._locks[event.incident_id] = asyncio.Lock()
        async with lock:
            decision = route(event, self.settings)
            roots = await self._ledger(lambda: self.ledger.roots(event.incident_id), "read")
            names = list(dict.fromkeys([*decision.channels, *roots]))
            gone = [n for n in names if n not in self.transports]
            if gone:
                log.warning("incident %s was posted to channels no longer configured: %s", event.incident_id, gone)
            names = [n for n in names if n in self.transports]
            if not names:
                self.metrics.unrouted.inc()
                log.info("incident event %s matches no route; not sent", event.event_id)
                return []
            return list(await asyncio.gather(*(self._deliver_to(event, name, roots.get(name)) for name in names)))

    # ------------------------------------------------------------ one notification

    async def _deliver_to(self, event: IncidentEvent, name: str, root: LedgerEntry | None) -> LedgerEntry:
        known = await self._ledger(lambda: self.ledger.get(event.event_id, name), "read")
        if known is not None and known.delivered:
            self.metrics.skipped.labels(name).inc()
            return known
        transport = self.transports[name]
        thread_ts = root.ts if root is not None and transport.threads else None
        plan = self._root_plan(event) if root is None else self._reply_plan(event, thread_ts)

        self.metrics.pending.labels(name).inc()
        try:
            entry, ts, how, plan = await self._send(event, name, transport, plan, known)
        finally:
            self.metrics.pending.labels(name).dec()
        if event.stage == "resolved" and plan.thread_ts is not None and self.settings.mark_resolved:
            await self._mark_resolved(event, name, transport, plan.thread_ts)
        delivered = entry.delivered_as(ts, plan.thread_ts, self.now(), how)
        await self._record(delivered)
        latency = (delivered.delivered_at or event.at) - event.at
        self.metrics.latency.labels(name).observe(max(latency.total_seconds(), 0.0))
        if how == "adopted":
            self.metrics.adopted.labels(name).inc()
        else:
            self.metrics.sent.labels(name, "reply" if plan.reply else "root").inc()
        return delivered

    def _root_plan(self, event: IncidentEvent) -> _Plan:
        message = render_root(event, dashboard_url=self.settings.dashboard_url, max_posts=self.settings.max_posts)
        return _Plan(message, thread_ts=None, reply=False)

    def _reply_plan(self, event: IncidentEvent, thread_ts: str | None) -> _Plan:
        message = render_reply(event, dashboard_url=self.settings.dashboard_url, threaded=thread_ts is not None)
        return _Plan(message, thread_ts=thread_ts, reply=True)

    async def _send(
        self, event: IncidentEvent, name: str, transport: Transport, plan: _Plan, known: LedgerEntry | None
    ) -> tuple[LedgerEntry, str | None, str, _Plan]:
        """Post (or adopt) until Slack has the message; returns the attempt entry, the ts, how, and the plan
        carried out: a reply turns into a root message when its thread is gone (the opening message was deleted)."""
        entry = known
        # An attempt recorded by an earlier run may have reached Slack before that run died.
        uncertain = known is not None
        failures = 0
        plain = False
        metadata = incident_metadata(event)
        while True:
            try:
                if uncertain and transport.can_look_up:
                    assert entry is not None
                    await self.pacer.wait(name)
                    found = await transport.find(
                        event.event_id, thread_ts=plan.thread_ts, oldest=entry.attempted_at - LOOKUP_MARGIN
                    )
                    if found is not None:
                        log.info(
                            "slack channel %r: %s was already posted (ts %s); adopted", name, event.event_id, found
                        )
                        return entry, found, "adopted", plan
                    uncertain = False
                if entry is None:
                    entry = LedgerEntry(event.incident_id, event.event_id, name, attempted_at=self.now())
                    await self._record(entry)
                await self.pacer.wait(name)
                message = Message(plan.message.text) if plain else plan.message
                ts = await transport.post(message, thread_ts=plan.thread_ts, metadata=metadata)
                return entry, ts, "posted", plan
            except RateLimitedError as error:
                wait = error.retry_after_s if error.retry_after_s is not None else self._backoff(failures)
                self.metrics.retried.labels(name, error.reason).inc()
                log.warning("slack channel %r rate limited; waiting %.1f s", name, wait)
                self.pacer.hold(name, wait)
            except TransientError as error:
                failures += 1
                uncertain = uncertain or error.outcome_unknown
                delay = self._backoff(failures)
                self.metrics.retried.labels(name, error.reason).inc()
                level = logging.ERROR if failures >= LOUD_AFTER else logging.WARNING
                log.log(level, "%s (attempt %d for %s); retrying in %.1f s", error, failures, event.event_id, delay)
                await self.sleep(delay)
            except PermanentError as error:
                self.metrics.failed.labels(name, error.reason).inc()
                if error.reason in THREAD_GONE and plan.thread_ts is not None:
                    log.warning("%s: the thread of %s is gone; posting a new opening message", error, event.event_id)
                    plan = self._root_plan(event)
                    continue
                if error.payload_problem and not plain:
                    log.error("%s: Slack refused the message for %s; sending it as plain text", error, event.event_id)
                    plain = True
                    continue
                log.error(
                    "%s: alert %s stays pending and is retried every %.0f s until this is fixed",
                    error,
                    event.event_id,
                    self.settings.permanent_retry_s,
                )
                await self.sleep(self.settings.permanent_retry_s)

    async def _mark_resolved(self, event: IncidentEvent, name: str, transport: Transport, root_ts: str) -> None:
        """Edit the root to show the incident resolved. Cosmetic: bounded retries, never holds the alert."""
        blocks: list[dict[str, Any]] | None = None
        read = False
        for attempt in range(MARK_ATTEMPTS):
            try:
                if not read:
                    await self.pacer.wait(name)
                    try:
                        blocks = await transport.read_blocks(root_ts)
                    except PermanentError as error:  # e.g. no history scope: re-render instead of re-using
                        log.info("%s: re-rendering the resolved root of %s", error, event.incident_id)
                    read = True
                edited = (
                    mark_resolved(blocks, event)
                    if blocks
                    else render_root(
                        event,
                        dashboard_url=self.settings.dashboard_url,
                        max_posts=self.settings.max_posts,
                        resolved=True,
                    )
                )
                await self.pacer.wait(name)
                await transport.update(root_ts, edited)
                self.metrics.marked_resolved.labels(name, "ok").inc()
                return
            except RateLimitedError as error:
                told = error.retry_after_s
                self.pacer.hold(name, told if told is not None else self._backoff(attempt + 1))
            except TransientError:
                await self.sleep(self._backoff(attempt + 1))
            except SlackError as error:
                log.warning("%s: could not mark incident %s resolved", error, event.incident_id)
                break
        self.metrics.marked_resolved.labels(name, "failed").inc()

    # ------------------------------------------------------------ helpers

    def _backoff(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(retry_max_s, retry_base_s · 2^(failures-1))]."""
        cap = min(self.settings.retry_max_s, self.settings.retry_base_s * 2 ** max(failures - 1, 0))
        return float(self.jitter() * cap)

    async def _record(self, entry: LedgerEntry) -> None:
        await self._ledger(lambda: self.ledger.put(entry), "write")

    async def _ledger(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """A ledger call, retried with backoff until it works (the database may be down for a while)."""
        failures = 0
        while True:
            try:
                return await call()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = self._backoff(failures)
                log.error(
                    "alert ledger %s failed (%s: %s); retrying in %.1f s", what, type(error).__name__, error, delay
                )
                await self.sleep(delay)
