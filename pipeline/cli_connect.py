"""``luister connect``: run one connector against the configured broker."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from connectors.registry import SOURCES
from pipeline.settings import ConnectorConfig, Settings, SettingsFileError, load_settings

EPILOG = """\b
Examples:
  luister connect replay --option path=recording.jsonl.gz --option speed=10
  luister connect replay --option path=export.csv --option platform=reddit
  luister connect demo --option rate=20 --option crisis_after_s=60
  luister connect hackernews --name hn-veloxa --option queries=veloxa --brands brands.yaml
  luister connect hn-veloxa --config luister.yaml      (a connector listed in the settings file, by name)

\b
Sources: """ + ", ".join(SOURCES)


@click.command("connect", epilog=EPILOG)
@click.argument("source")
@click.option(
    "--name", default=None, help="this connector's name: its cursor's key and metrics label (default: SOURCE)"
)
@click.option(
    "-o",
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="a source option (repeatable; a key given twice becomes a list)",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="settings file (YAML; default: LUISTER_CONFIG)",
)
@click.option(
    "--brands",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="brand queries (YAML): publish only mentions that match, with their brands (default: settings brands)",
)
@click.option(
    "--metrics-port", type=int, default=None, help="serve Prometheus /metrics on METRICS_HOST:PORT (0: a free port)"
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="address the metrics server binds (0.0.0.0 in a container, so Prometheus can scrape it)",
)
@click.option("--progress-every", type=float, default=5.0, show_default=True, help="seconds between progress lines")
def connect_cmd(
    source: str,
    name: str | None,
    options: Sequence[str],
    config: Path | None,
    brands: Path | None,
    metrics_port: int | None,
    metrics_host: str,
    progress_every: float,
) -> None:
    """Run one connector: fetch from SOURCE, publish mentions to the raw topic, save its cursor on the broker.

    Needs KAFKA_BOOTSTRAP_SERVERS (or LUISTER_KAFKA__BOOTSTRAP_SERVERS, or kafka.bootstrap_servers in the settings
    file). SOURCE is a source type, or the name of a connector in the settings file (its options, overridden by
    --option). A restart resumes from the saved cursor (re-sending at most one batch; the pipeline deduplicates by
    id). Payloads a connector cannot read go to the dead-letter topic. Ctrl-C stops within seconds; a finite source
    (replay) stops by itself at its end.
    """
    from connectors.launch import BrandQueriesError, brand_filter, build_all
    from connectors.registry import SourceError

    try:
        settings = load_settings(config)
    except SettingsFileError as error:
        raise click.UsageError(str(error)) from None
    if not settings.kafka.bootstrap_servers:
        raise click.UsageError("no broker configured: set KAFKA_BOOTSTRAP_SERVERS (or start one with `luister run`)")
    wanted = _connector_config(settings, source, name, parse_options(options))
    try:
        [connector] = build_all([wanted])
        select = brand_filter(brands or settings.brands)
    except (SourceError, BrandQueriesError) as error:
        raise click.ClickException(str(error)) from None
    sys.exit(_serve(settings, connector, select, metrics_host, metrics_port, progress_every))


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b=x", "b=y"]`` → ``{"a": "1", "b": ["x", "y"]}``; values stay strings (the source's own
    option model converts them)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        key = key.strip()
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _connector_config(settings: Settings, source: str, name: str | None, options: dict[str, Any]) -> ConnectorConfig:
    for configured in settings.connectors:
        if configured.name == source:
            return ConnectorConfig(
                source=configured.source, name=name or configured.name, options={**configured.options, **options}
            )
    return ConnectorConfig(source=source, name=name, options=options)


def _serve(
    settings: Settings,
    connector: Any,
    select: Any,
    metrics_host: str,
    metrics_port: int | None,
    progress_every: float,
) -> int:
    from prometheus_client import start_http_server

    from connectors.launch import run_connectors
    from connectors.metrics import ConnectorMetrics

    metrics = ConnectorMetrics()
    server = None
    if metrics_port is not None:
        server, _ = start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
        _say(f"metrics: http://{metrics_host}:{server.server_port}/metrics")
    bootstrap = settings.kafka.bootstrap_servers
    assert bootstrap is not None
    _say(f"{connector.source} {connector.name}: publishing to {settings.kafka.raw_topic} on {bootstrap}")

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        # SIGINT explicitly too: a process started from a non-interactive shell's background job inherits SIGINT
        # as ignored, and asyncio then installs no handler of its own (found in CI: the connector went on
        # publishing after SIGINT). `luister run` and the worker handle both the same way (faust's Worker).
        for stop in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop, task.cancel)
        await run_connectors(
            [connector],
            bootstrap_servers=bootstrap,
            kafka=settings.kafka,
            metrics=metrics,
            select=select,
            say=_say,
            progress_every_s=progress_every,
        )

    try:
        asyncio.run(main())
        _say(f"{connector.name}: done")
    except (KeyboardInterrupt, asyncio.CancelledError):
        _say(f"{connector.name}: stopped")
    finally:
        if server is not None:
            server.shutdown()
    return 0


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
