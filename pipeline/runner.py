"""Starting a worker: build its services (model, database, topics), then hand the event loop to Faust.

``luister worker`` is :func:`run_worker` against configured Kafka and ClickHouse; ``luister run`` wraps it with
the embedded broker and the demo source (:mod:`pipeline.embedded`). Both stop cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faust

from pipeline.alerts import AlertMetrics, Notifier, build_notifier
from pipeline.app import Services, consumed_topics, create_app
from pipeline.detector_task import DetectorMetrics, DetectorRuntime
from pipeline.metrics import PipelineMetrics
from pipeline.settings import ModelSettings, Settings
from pipeline.steps.enrich import Enricher, model_version
from pipeline.storage.incidents import IncidentWriter
from pipeline.topics import ensure_topics, luister_topics

log = logging.getLogger("luister.worker")

AppHook = Callable[[faust.App, Services], None]
"""Adds tasks/timers to the app before it starts (the demo source, progress output)."""


def build_enricher(settings: ModelSettings, progress: bool = True, child: bool | None = None) -> Enricher:
    """The enrich step with its model: in a child process (``settings.child_process``, or ``child``) or in this one.

    Close it with :func:`close_enricher` (it ends the child).
    """
    version = model_version(settings.adapters, settings.sentiment_head, settings.topics, settings.intents)
    if settings.child_process if child is None else child:
        from pipeline.model_process import ModelProcess

        started = time.perf_counter()
        process = ModelProcess(settings)
        info = process.info
        if progress:
            print(
                f"model {info.model_name} on {info.device} ({info.precision}) in child process {process.pid}, "
                f"loaded in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
                flush=True,
            )
        return Enricher(process, model=info.model_name, model_version=version, max_chars=settings.max_chars)

    from pipeline.cli import build_classifier

    classifier = build_classifier(settings, progress=progress)
    return Enricher(
        classifier, model=classifier.encoder.model_name, model_version=version, max_chars=settings.max_chars
    )


def close_enricher(enricher: Enricher) -> None:
    close = getattr(enricher.predictor, "close", None)
    if callable(close):
        close()


def open_storage(settings: Settings) -> tuple[Any, Any, Callable[[str], dict[str, Any]]]:
    """Open ClickHouse (embedded or server), apply migrations; return (client, writer, read-only SQL runner)."""
    from pipeline.storage.bootstrap import open_database
    from pipeline.storage.query import run_readonly
    from pipeline.storage.writer import MentionWriter

    ch = settings.clickhouse
    client = open_database(ch, settings.data_dir)  # migrates, and heals rollups a crash left stale
    writer = MentionWriter(client, ch.database)

    def sql(query: str) -> dict[str, Any]:
        result = run_readonly(client, query, database=ch.database)
        return {
            "columns": list(result.columns),
            "types": list(result.types),
            "rows": [list(r) for r in result.rows],
            "truncated": result.truncated,
        }

    return client, writer, sql


def build_alert_notifier(
    settings: Settings, client: Any, metrics: PipelineMetrics, say: Callable[[str], None]
) -> Notifier | None:
    """The Slack notifier, or None when the settings configure no alert channels (incidents are still stored)."""
    if not settings.alerts.channels:
        say("alerts: no Slack channels configured (settings file 'alerts:'); incidents are stored, not sent")
        return None
    say(f"alerts: Slack channels {', '.join(sorted(settings.alerts.channels))}")
    return build_notifier(settings, client, AlertMetrics(metrics.registry))


def build_detector(
    settings: Settings, client: Any, metrics: PipelineMetrics, say: Callable[[str], None]
) -> DetectorRuntime | None:
    if not settings.detect.enabled:
        say("detector: disabled (detect.enabled = false)")
        return None
    return DetectorRuntime(
        client,
        settings.clickhouse.database,
        settings.detect,
        DetectorMetrics(metrics.registry),
        dashboard_url=settings.alerts.dashboard_url,
    )


def runtime_file(settings: Settings) -> Path:
    """Where a running worker announces its web address, so ``luister sql`` can reach its embedded engine."""
    return settings.data_dir / "worker.json"


@contextmanager
def announced(settings: Settings, web_url: str) -> Iterator[None]:
    path = runtime_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "web": web_url}))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def run_worker(
    settings: Settings,
    bootstrap_servers: str,
    hooks: list[AppHook] | None = None,
    say: Callable[[str], None] | None = None,
    wall_hours: int | None = None,
) -> int:
    """Run one worker until SIGINT/SIGTERM; returns the exit code.

    ``wall_hours``: the time range the printed wall page URL asks for (None: the page's default).
    """
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    say(f"luister worker: broker {bootstrap_servers}, data {settings.data_dir}")
    enricher = build_enricher(settings.model)
    client, writer, sql = open_storage(settings)
    where = settings.clickhouse.url or f"embedded engine in {settings.data_dir / 'clickhouse'}"
    say(f"ClickHouse: {where}, database {settings.clickhouse.database!r} (migrations applied)")
    partitions = asyncio.run(ensure_topics(bootstrap_servers, luister_topics(settings.kafka)))
    metrics = PipelineMetrics()
    services = Services(
        settings=settings,
        bootstrap_servers=bootstrap_servers,
        input_partitions=max(partitions.get(topic, 0) for topic in consumed_topics(settings.kafka)) or None,
        enricher=enricher,
        writer=writer,
        sql=sql,
        metrics=metrics,
        incidents=IncidentWriter(client, settings.clickhouse.database),
        notifier=build_alert_notifier(settings, client, metrics, say),
        detector=build_detector(settings, client, metrics, say),
    )
    app = create_app(services)
    for hook in hooks or []:
        hook(app, services)
    web = f"http://{settings.worker.web_host}:{settings.worker.web_port}"
    say(f"worker web: {web}/health  {web}/metrics  {web}/sql?q=SELECT+1")
    wall = f"{web}/wall" + (f"?hours={wall_hours}" if wall_hours else "")
    say(f"wall page: {wall}  (open it on a screen: live panels, incident banner)")
    worker = faust.Worker(app, loglevel=os.environ.get("LUISTER_LOG_LEVEL", "WARNING"), quiet=True)
    code = 0
    with announced(settings, web):
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            close_enricher(enricher)
            close = getattr(client, "close", None)
            if callable(close):
                close()
    return code
