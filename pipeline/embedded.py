"""``luister run``: the whole pipeline in one process tree on loopback, for a laptop or a demo.

The Tansu broker runs as a child process (it dies with us, even on SIGKILL), and the worker, the embedded
ClickHouse engine, the web pages and the demo source live in this process. Configured
``KAFKA_BOOTSTRAP_SERVERS`` / ``CLICKHOUSE_URL`` replace the embedded broker / engine.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import faust

from connectors.base import Connector
from connectors.runner import Select
from pipeline.app import Services
from pipeline.broker import EmbeddedBroker
from pipeline.progress import progress_hook
from pipeline.runner import AppHook, run_worker
from pipeline.settings import Settings

log = logging.getLogger("luister.run")


@dataclass(frozen=True)
class DemoOptions:
    rate_per_s: float = 8.0
    crisis_after_s: float = 90.0
    limit: int | None = None
    seed: int = 7


def demo_hook(bootstrap_servers: str, topic: str, options: DemoOptions) -> AppHook:
    """Publish the demo stream to the raw topic through the same sink real connectors use."""

    def hook(app: faust.App, services: Services) -> None:
        @app.task
        async def demo_source() -> None:
            from connectors.demo import DemoStream
            from connectors.sink import KafkaMentionSink

            stream = DemoStream(
                seed=options.seed,
                start=datetime.now(UTC),
                rate_per_s=options.rate_per_s,
                crisis_after_s=options.crisis_after_s,
            )
            async with KafkaMentionSink(bootstrap_servers, topic) as sink:
                await stream.run(sink, realtime=True, limit=options.limit)
            log.warning("demo source finished")

    return hook


def connectors_hook(
    bootstrap_servers: str,
    settings: Settings,
    connectors: Sequence[Connector],
    select: Select | None,
    say: Callable[[str], None],
) -> AppHook:
    """Run ``connectors`` as one worker task; their metrics join the worker's /metrics."""

    def hook(app: faust.App, services: Services) -> None:
        @app.task
        async def connector_sources() -> None:
            from connectors.launch import run_connectors
            from connectors.metrics import ConnectorMetrics

            await run_connectors(
                connectors,
                bootstrap_servers=bootstrap_servers,
                kafka=settings.kafka,
                metrics=ConnectorMetrics(services.metrics.registry),
                select=select,
                say=say,
                progress_every_s=10.0,
            )
            log.warning("every configured connector finished")

    return hook


def run_embedded(settings: Settings, demo: DemoOptions | None) -> int:
    say = _say
    connectors: list[Connector] = []
    select = None
    if settings.connectors:
        from connectors.launch import brand_filter, build_all

        # Bad options or a source missing from this build fail here, before anything is started.
        connectors, select = build_all(settings.connectors), brand_filter(settings.brands)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    broker: EmbeddedBroker | None = None
    bootstrap = settings.kafka.bootstrap_servers
    if bootstrap is None:
        broker = EmbeddedBroker(log_dir=settings.data_dir / "broker").start()
        bootstrap = broker.bootstrap_servers
        say(f"broker: embedded Tansu on {bootstrap} (pid {broker.pid}, in-memory, log {broker.log_path})")
    hooks: list[AppHook] = [progress_hook(say=say)]
    if connectors:
        hooks.append(connectors_hook(bootstrap, settings, connectors, select, say))
        say(f"connectors: {', '.join(c.name for c in connectors)}")
    if demo is not None:
        hooks.append(demo_hook(bootstrap, settings.kafka.raw_topic, demo))
        say(f"demo: {demo.rate_per_s:g} mentions/s, a complaint snowballs after {demo.crisis_after_s:g}s")
    say('query meanwhile: luister sql "SELECT sentiment, count() FROM mentions_v GROUP BY sentiment"')
    try:
        # The demo's traffic starts now: a one-hour wall shows it best.
        return run_worker(settings, bootstrap, hooks=hooks, say=say, wall_hours=1 if demo is not None else None)
    finally:
        if broker is not None:
            broker.stop()
            say("broker stopped")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
