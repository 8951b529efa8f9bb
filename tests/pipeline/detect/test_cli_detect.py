"""``luister detect`` on a generated series, run as a user would (click's runner)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from detect_helpers import seasonal_counts

from pipeline.cli import main

START = datetime(2026, 1, 5, tzinfo=UTC)


def write_series(path: Path, counts: list[int], interval_s: int = 300, skip: frozenset[int] = frozenset()) -> None:
    with path.open("w", newline="") as out:
        out.write("timestamp,value\n")
        for i, c in enumerate(counts):
            if i not in skip:
                stamp = (START + timedelta(seconds=i * interval_s)).strftime("%Y-%m-%d %H:%M:%S")
                out.write(f"{stamp},{c}\n")


def test_detect_writes_one_scored_row_per_input_row_and_alerts_on_the_burst(tmp_path: Path) -> None:
    counts = seasonal_counts(np.random.default_rng(11), 4 * 288, 25.0, interval=300.0)
    for i in range(900, 906):
        counts[i] += 400
    source, target = tmp_path / "series.csv", tmp_path / "scored.csv"
    write_series(source, counts, skip=frozenset(range(500, 520)))
    result = CliRunner().invoke(main, ["detect", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(rows) == len(counts) - 20
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 and r["alert"] in {"0", "1"} for r in rows)
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    burst_rows = {i - 20 for i in range(900, 906)}  # row index = bucket index minus the skipped gap
    assert alerts and set(alerts) <= burst_rows  # alerts open (or escalate) the incident, nothing else
    assert "interval 300s" in result.stderr and "opened" in result.stderr


def test_detect_to_stdout_from_stdin() -> None:
    counts = seasonal_counts(np.random.default_rng(12), 300, 5.0, interval=300.0)
    text = io.StringIO()
    text.write("timestamp,value\n")
    for i, c in enumerate(counts):
        text.write(f"{(START + timedelta(minutes=5 * i)).isoformat()},{c}\n")
    result = CliRunner().invoke(main, ["detect", "--input", "-"], input=text.getvalue())
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score,alert" and len(lines) == 301


def test_detect_refuses_a_bad_series(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,count\n2026-01-01,3\n")
    result = CliRunner().invoke(main, ["detect", "--input", str(bad)])
    assert result.exit_code != 0 and "timestamp,value" in result.output
    unordered = tmp_path / "unordered.csv"
    unordered.write_text("timestamp,value\n2026-01-01 00:05:00,3\n2026-01-01 00:00:00,4\n")
    result = CliRunner().invoke(main, ["detect", "--input", str(unordered)])
    assert result.exit_code != 0 and "not after the previous row" in result.output


def test_detect_is_listed_in_help() -> None:
    assert "detect" in CliRunner().invoke(main, ["--help"]).output
