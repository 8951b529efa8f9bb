"""The ``alerts`` agent: incident events from the ``alerts`` topic → ClickHouse ``incident_events`` → Slack → commit.

An event's offset is committed only after it is stored and delivered to every routed channel
(:meth:`pipeline.alerts.Notifier.deliver` returns only then), so a crash or a Slack outage loses no alert; the
ledger behind the notifier drops what was already delivered, so a replay after a restart sends nothing twice.
The agent has its own stream: while Slack is down it waits, and the enrich and sink agents go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import faust
from faust.types import EventT
from pydantic import ValidationError

from pipeline.alerts import Notifier
from pipeline.incidents import IncidentEvent
from pipeline.retry import retry_until_done
from pipeline.steps.commit import OffsetCommitter, next_offsets
from pipeline.storage.incidents import IncidentWriter

log = logging.getLogger("luister.alerts")

Event = EventT[bytes]
DeadLetter = Callable[[Event, str, str], Awaitable[Awaitable[Any]]]
Blocking = Callable[..., Awaitable[Any]]

BATCH = 100
WITHIN_S = 0.2


def add_alert_agent(
    app: faust.App,
    topic: faust.TopicT,
    *,
    committer: OffsetCommitter,
    dead_letter: DeadLetter,
    blocking: Blocking,
    writer: IncidentWriter | None,
    notifier: Notifier | None,
) -> None:
    """Adds the agent to ``app``. ``blocking(fn, *args)`` runs a blocking call off the event loop (the DB pool);
    without a writer nothing is stored, without a notifier nothing is sent (no channels configured)."""

    async def store(events: Sequence[IncidentEvent]) -> None:
        if writer is None:
            return
        # A database outage holds the alerts back, it does not drop them; a refusal for good is raised.
        await retry_until_done(
            f"storing {len(events)} incident events",
            lambda: blocking(writer.write, list(events)),
            log,
            permanent=lambda exc: bool(getattr(exc, "permanent", False)),
        )

    async def handle(events: Sequence[Event]) -> None:
        parsed: list[IncidentEvent] = []
        dlq: list[Awaitable[Any]] = []
        for event in events:
            try:
                parsed.append(IncidentEvent.model_validate_json(event.message.value or b""))
            except ValidationError as exc:
                dlq.append(await dead_letter(event, "alert_schema", str(exc)[:500]))
        if parsed:
            try:
                await store(parsed)
            except Exception as exc:  # refused for good: keep them findable in the dead-letter topic
                for event in events:
                    dlq.append(await dead_letter(event, "alert_refused", str(exc)[:500]))
            if notifier is not None:
                for incident in parsed:
                    await notifier.deliver(incident)
        if dlq:
            await asyncio.gather(*dlq)
        committer.done(next_offsets([(e.message.topic, e.message.partition, e.message.offset) for e in events]))
        await committer.maybe_commit()

    @app.agent(topic, name="alerts", concurrency=1)
    async def alerts_agent(stream: faust.StreamT[bytes]) -> None:
        async for events in cast(Any, stream).take_events(BATCH, within=WITHIN_S):
            await handle(events)
