"""Running configured connectors against a broker: what ``luister connect`` and ``luister run`` share.

Each connector gets its own producers (raw and dead-letter topic), so one connector's delivery failure or flush
never waits on another's records; all share the state store and the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from connectors.base import Connector
from connectors.metrics import ConnectorMetrics
from connectors.runner import Select, run_connector
from connectors.sink import KafkaMentionSink
from connectors.state import KafkaStateStore
from pipeline.settings import ConnectorConfig, KafkaSettings
from pipeline.topics import ensure_topics, luister_topics

log = logging.getLogger("luister.connectors")


class BrandQueriesError(RuntimeError):
    """The brand query file cannot be read or has an error (the message names the brand, and the position)."""


def brand_filter(path: Path | None) -> Select | None:
    """``QuerySet.from_yaml(path).apply``, or None (keep every mention) when no brand file is configured."""
    if path is None:
        return None
    from connectors.query import QuerySet

    try:
        query_set = QuerySet.from_yaml(path)
    except (OSError, ValueError) as error:
        notes = "".join(f"\n  ({note})" for note in getattr(error, "__notes__", ()))
        raise BrandQueriesError(f"brand queries {path}: {error}{notes}") from error
    select: Select = query_set.apply
    return select


def build_all(configs: Sequence[ConnectorConfig]) -> list[Connector]:
    """Connectors from the settings' list; names must be unique (they key the cursors and metrics)."""
    from connectors.registry import SourceError, build_connector

    connectors = [build_connector(c.source, c.name, c.options) for c in configs]
    names = [c.name for c in connectors]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise SourceError(f"connector names must be unique; repeated: {', '.join(duplicates)}")
    return connectors


async def run_connectors(
    connectors: Sequence[Connector],
    *,
    bootstrap_servers: str,
    kafka: KafkaSettings,
    metrics: ConnectorMetrics,
    select: Select | None = None,
    say: Callable[[str], None] | None = None,
    progress_every_s: float = 5.0,
) -> None:
    """Ensure the topics, then run every connector until all have ended or this is cancelled (Ctrl-C)."""
    await ensure_topics(bootstrap_servers, luister_topics(kafka))
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(
            KafkaStateStore(bootstrap_servers, replication=kafka.replication_factor)
        )
        runs = []
        for connector in connectors:
            sink = await stack.enter_async_context(
                KafkaMentionSink(bootstrap_servers, kafka.raw_topic, client_id=f"luister-connector-{connector.name}")
            )
            deadletters = await stack.enter_async_context(
                KafkaMentionSink(bootstrap_servers, kafka.deadletter_topic, client_id=f"luister-dlq-{connector.name}")
            )
            runs.append(
                run_connector(
                    connector, sink=sink, deadletters=deadletters, store=store, select=select, metrics=metrics
                )
            )
        reporter = None
        if say is not None:
            reporter = asyncio.create_task(_report(metrics, [c.name for c in connectors], say, progress_every_s))
        try:
            await asyncio.gather(*runs)
        finally:
            if reporter is not None:
                reporter.cancel()
            if say is not None:
                say(progress_line(metrics, [c.name for c in connectors]))


def progress_line(metrics: ConnectorMetrics, names: Sequence[str], rates: dict[str, float] | None = None) -> str:
    newest = metrics.newest()
    parts = []
    for name in names:
        t = metrics.totals(name)
        rate = f" ({rates[name]:.1f}/s)" if rates and name in rates else ""
        lag = f" · lag {time.time() - newest[name]:.0f}s" if name in newest else ""
        parts.append(
            f"{name}: fetched {t['fetched']:.0f} · published {t['published']:.0f}{rate} · "
            f"dead-lettered {t['rejected']:.0f} · errors {t['errors']:.0f}{lag}"
        )
    return " | ".join(parts)


async def _report(metrics: ConnectorMetrics, names: Sequence[str], say: Callable[[str], None], every_s: float) -> None:
    before = {n: metrics.totals(n)["published"] for n in names}
    while True:
        await asyncio.sleep(every_s)
        now = {n: metrics.totals(n)["published"] for n in names}
        say(progress_line(metrics, names, {n: (now[n] - before[n]) / every_s for n in names}))
        before = now
