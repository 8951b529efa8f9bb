"""``luister run``, ``luister worker`` and ``luister sql``: the streaming pipeline's commands."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from pipeline.settings import Settings, SettingsFileError, load_settings


@click.command("run")
@click.option(
    "--demo/--no-demo",
    default=None,
    help="feed a simulated multilingual stream (default: only when the settings file lists no connectors)",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="settings file (YAML) whose connectors run next to the worker (default: LUISTER_CONFIG)",
)
@click.option("--rate", type=float, default=8.0, show_default=True, help="demo mentions per second (on average)")
@click.option(
    "--crisis-after", type=float, default=90.0, show_default=True, help="seconds until the demo's complaint snowballs"
)
@click.option("--limit", type=int, default=None, help="stop the demo after this many mentions")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="default: settings data_dir")
@click.option("--port", type=int, default=None, help="web port for health, metrics and SQL (default: settings)")
def run_cmd(
    demo: bool | None,
    config: Path | None,
    rate: float,
    crisis_after: float,
    limit: int | None,
    data_dir: str | None,
    port: int | None,
) -> None:
    """Run the whole pipeline on this machine: broker, worker, database, and the configured connectors or a demo.

    Starts the embedded Tansu broker on a free loopback port unless KAFKA_BOOTSTRAP_SERVERS is set, and the
    embedded ClickHouse engine in DATA_DIR/clickhouse unless CLICKHOUSE_URL is set. The connectors listed in the
    settings file run next to the worker; without any, the demo stream does (or with --demo). Ctrl-C stops
    everything. Query the results meanwhile with `luister sql "SELECT ..."` from another terminal.
    """
    from pipeline.embedded import DemoOptions, run_embedded

    settings = _settings(data_dir, port, config)
    if demo is None:
        demo = not settings.connectors
    options = DemoOptions(rate_per_s=rate, crisis_after_s=crisis_after, limit=limit) if demo else None
    from connectors.launch import BrandQueriesError
    from connectors.registry import SourceError

    try:
        code = run_embedded(settings, options)
    except (SourceError, BrandQueriesError) as error:
        raise click.ClickException(str(error)) from None
    sys.exit(code)


@click.command("worker")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="default: settings data_dir")
@click.option("--port", type=int, default=None, help="web port for health, metrics and SQL (default: settings)")
def worker_cmd(data_dir: str | None, port: int | None) -> None:
    """Run one streaming worker against the configured Kafka and ClickHouse (the production process).

    Needs KAFKA_BOOTSTRAP_SERVERS (or LUISTER_KAFKA__BOOTSTRAP_SERVERS). Scale out by starting more workers with
    the same group: partitions are shared among them. Without CLICKHOUSE_URL it writes to the embedded engine,
    which only one process may open.
    """
    from pipeline.runner import run_worker

    settings = _settings(data_dir, port)
    if not settings.kafka.bootstrap_servers:
        raise click.UsageError("no broker configured: set KAFKA_BOOTSTRAP_SERVERS (or use `luister run`)")
    sys.exit(run_worker(settings, settings.kafka.bootstrap_servers))


@click.command("sql")
@click.argument("query")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "parquet"]), default="table", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the result to this file instead of stdout (required for parquet)",
)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="default: settings data_dir")
def sql_cmd(query: str, fmt: str, output: Path | None, data_dir: str | None) -> None:
    """Run a read-only query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) and print or export the result.

    Against CLICKHOUSE_URL when set; otherwise through the running local pipeline (the embedded engine allows
    one process per data directory), or directly on the embedded data when nothing is running. At most 10,000
    rows come back (a note on stderr says when the result was cut). Tables and example queries: docs/schema.md.

    \b
    luister sql "SELECT lang, count() FROM mentions_v GROUP BY lang" --format csv -o langs.csv
    luister sql "SELECT * FROM mentions_v WHERE created_at > today()" --format parquet -o today.parquet
    """
    from pipeline.sql_client import SqlError, parquet_anywhere, query_anywhere

    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: add --output FILE")
    settings = _settings(data_dir, None)
    try:
        if fmt == "parquet":
            assert output is not None
            body, truncated = parquet_anywhere(settings, query)
            output.write_bytes(body)
            _note_truncated(truncated)
            return
        result = query_anywhere(settings, query)
    except SqlError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        _print_result(result["columns"], result["rows"], fmt)
    else:
        with output.open("w", encoding="utf-8", newline="") as sink:
            _print_result(result["columns"], result["rows"], fmt, sink)
    _note_truncated(bool(result.get("truncated")))


def _note_truncated(truncated: bool) -> None:
    if truncated:
        click.echo("note: the result was cut at the row limit (10,000 rows); narrow the query", err=True)


def _settings(data_dir: str | None, port: int | None, config: Path | None = None) -> Settings:
    try:
        settings = load_settings(config)
    except SettingsFileError as error:
        raise click.UsageError(str(error)) from None
    if data_dir:
        settings.data_dir = Path(data_dir).resolve()
    if port is not None:
        settings.worker.web_port = port
    return settings


def _print_result(columns: list[str], rows: list[list[Any]], fmt: str, out: IO[str] | None = None) -> None:
    out = out if out is not None else sys.stdout
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row, strict=True)), default=str, ensure_ascii=False), file=out)
        return
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        return
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)), file=out)
    click.echo("  ".join("-" * w for w in widths), file=out)
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)), file=out)
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


def _cell(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
