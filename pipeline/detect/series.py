"""Replay a single ``timestamp,value`` series through the detector core's volume signal (``luister detect``).

The same ``CountChannel`` and ``IncidentTracker`` the pipeline uses, at the fixed default configuration. ``alert``
is 1 on the rows where an incident opens or escalates, not on every anomalous row.
"""

from __future__ import annotations

import csv
import itertools
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from pipeline.detect.channel import Assessment, CountChannel
from pipeline.detect.config import DEFAULT_CONFIG, DetectorConfig
from pipeline.detect.lifecycle import IncidentTracker
from pipeline.incidents import IncidentEvent


class SeriesError(ValueError):
    """The input is not a usable ``timestamp,value`` series."""


@dataclass(frozen=True, slots=True)
class Row:
    timestamp: str
    value: float
    anomaly_score: float
    alert: int


def parse_time(text: str) -> float:
    """Epoch seconds; naive timestamps are UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SeriesError(f"not an ISO timestamp: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_series(stream: IO[str]) -> list[tuple[str, float, float]]:
    """(timestamp as written, epoch seconds, value) per row, in file order (which must be time order)."""
    reader = csv.DictReader(stream)
    if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
        raise SeriesError(f"expected columns timestamp,value; got {reader.fieldnames}")
    rows: list[tuple[str, float, float]] = []
    for line, rec in enumerate(reader, start=2):
        try:
            value = float(rec["value"])
        except (TypeError, ValueError) as exc:
            raise SeriesError(f"line {line}: value {rec['value']!r} is not a number") from exc
        if value < 0:
            raise SeriesError(f"line {line}: a count cannot be negative ({value})")
        ts = parse_time(rec["timestamp"] or "")
        if rows and ts <= rows[-1][1]:
            raise SeriesError(f"line {line}: timestamp {rec['timestamp']} is not after the previous row")
        rows.append((rec["timestamp"], ts, value))
    return rows


def infer_interval(times: list[float]) -> float:
    """The bucket interval: the median step between consecutive rows (gaps and jitter do not move a median)."""
    if len(times) < 2:
        raise SeriesError("need at least two rows to infer the interval")
    return float(statistics.median(b - a for a, b in itertools.pairwise(times)))


def detect_series(
    rows: Iterable[tuple[str, float, float]], interval_s: float, config: DetectorConfig = DEFAULT_CONFIG
) -> Iterator[tuple[Row, list[IncidentEvent]]]:
    """Each row with its score and alert flag, and the incident events it caused."""
    channel = CountChannel(interval_s, config)
    tracker = IncidentTracker("series", None, "volume", interval_s, config)

    def describe(a: Assessment) -> str:
        return f"volume {a.observed:g} vs {a.expected:.1f} expected over {a.window} bucket(s)"

    for text, ts, value in rows:
        assessment = channel.observe(ts, value)
        events = tracker.step(assessment, channel.upper, describe)
        alert = int(any(e.stage in ("opened", "escalated") for e in events))
        score = assessment.score if assessment.warm else 0.0
        yield Row(text, value, round(score, 6), alert), events
