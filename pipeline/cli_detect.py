"""``luister detect``: replay a ``timestamp,value`` series through the detector core's volume signal."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from pipeline.detect.series import SeriesError, detect_series, infer_interval, read_series


@click.command("detect")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="CSV with columns timestamp,value (one row per interval, time order; - for stdin)",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="where to write timestamp,value,anomaly_score,alert (default stdout)",
)
def detect_cmd(input_path: Path, output_path: Path | None) -> None:
    """Score a count series with the crisis detector (fixed configuration, volume signal).

    The interval is inferred (median step); missing rows are gaps (no data). Writes one row per input row:
    anomaly_score in [0, 1] (0.5 = the alerting level) and alert = 1 on the rows where an incident opens or
    escalates. Incident steps go to stderr.
    """
    try:
        if str(input_path) == "-":
            rows = read_series(sys.stdin)
        else:
            with input_path.open(newline="", encoding="utf-8") as stream:
                rows = read_series(stream)
        interval = infer_interval([ts for _, ts, _ in rows])
    except (SeriesError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    out = sys.stdout if output_path is None or str(output_path) == "-" else output_path.open("w", newline="")
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["timestamp", "value", "anomaly_score", "alert"])
        alerts = 0
        for row, events in detect_series(rows, interval):
            writer.writerow([row.timestamp, f"{row.value:g}", f"{row.anomaly_score:.6f}", row.alert])
            alerts += row.alert
            for event in events:
                click.echo(f"{event.stage:9s} {event.severity:8s} {event.incident_id}  {event.summary}", err=True)
    finally:
        if out is not sys.stdout:
            out.close()
    click.echo(f"{len(rows)} rows, interval {interval:g}s, {alerts} alert rows", err=True)
