"""False alarms per brand-day on long normal synthetic traffic, and recall / time to detect on injected crises.

    python -m benchmarks.bench_false_alarms [--brands 16] [--days 12] [--seed 7]

Runs the full multi-signal ``Detector`` (default configuration) over weeks of 1-minute buckets per brand
(benchmarks/synthetic_traffic.py) and prints JSON: incidents opened outside injected events per brand-day (goal
<= 0.1), by signal and by brand volume; the share of injected events during which the brand got an incident
(recall, by kind); and the minutes from an event's first bucket to the end of the bucket that opened it.
``--set name=value`` overrides a configuration field, for protocol studies only (the defaults are what ships).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import numpy as np

from benchmarks.synthetic_traffic import DAY, BrandSpec, Injected, brand_buckets, brand_specs, schedule
from pipeline.detect.config import DEFAULT_CONFIG, DetectorConfig
from pipeline.detect.detector import Detector
from pipeline.incidents import IncidentEvent

AFTER_EVENT_S = 2 * 3_600.0  # an incident opened this soon after an event ends is the event's, not a false alarm


def _volume_class(spec: BrandSpec) -> str:
    per_day = spec.rate * 1_440
    return "low (<300/day)" if per_day < 300 else "mid" if per_day < 5_000 else "high (>5000/day)"


def _configure(overrides: list[str]) -> DetectorConfig:
    values: dict[str, object] = {}
    fields = {f.name: f for f in dataclasses.fields(DetectorConfig)}
    for item in overrides:
        name, _, raw = item.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown configuration field {name!r}")
        values[name] = type(getattr(DEFAULT_CONFIG, name))(raw)
    return dataclasses.replace(DEFAULT_CONFIG, **values)  # type: ignore[arg-type]


def run(
    brands: int, days: int, warmup_days: int, seed: int, per_brand: int, config: DetectorConfig
) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 2, tzinfo=UTC).timestamp()  # a Monday
    specs = brand_specs(rng, brands)
    injected = schedule(rng, specs, start, days, warmup_days, per_brand)
    detector = Detector(60.0, config)
    opened: list[IncidentEvent] = []
    buckets = 0
    started = time.perf_counter()
    for spec in specs:
        for bucket in brand_buckets(rng, spec, start, days, injected):
            buckets += 1
            opened += [e for e in detector.observe(bucket) if e.stage == "opened"]
    seconds = time.perf_counter() - started
    by_brand: dict[str, list[Injected]] = defaultdict(list)
    for injection in injected:
        by_brand[injection.brand].append(injection)

    def explained(e: IncidentEvent) -> Injected | None:
        at = e.opened_at.timestamp()
        for event in by_brand[e.brand]:
            if event.start - 300 <= at <= event.start + event.duration_s + AFTER_EVENT_S:
                return event
        return None

    measured_from = start + warmup_days * DAY
    brand_days = brands * (days - warmup_days)
    false = [e for e in opened if e.opened_at.timestamp() >= measured_from and explained(e) is None]
    classes = {s.name: _volume_class(s) for s in specs}
    class_days = {
        c: sum(1 for s in specs if classes[s.name] == c) * (days - warmup_days) for c in set(classes.values())
    }
    detected: dict[Injected, float] = {}
    first_signal: dict[Injected, str] = {}
    for e in opened:
        cause = explained(e)
        if cause is not None and e.opened_at.timestamp() <= cause.start + cause.duration_s:
            delay = (e.at.timestamp() - cause.start) / 60.0
            if delay < detected.get(cause, float("inf")):
                detected[cause], first_signal[cause] = delay, e.signal
    kinds = sorted({e.kind for e in injected})
    recall = {k: _rate(sum(1 for e in detected if e.kind == k), sum(1 for e in injected if e.kind == k)) for k in kinds}
    delays = {k: sorted(d for e, d in detected.items() if e.kind == k) for k in kinds}
    return {
        "brands": brands,
        "days": days,
        "warmup_days": warmup_days,
        "seed": seed,
        "brand_days_measured": brand_days,
        "buckets": buckets,
        "false_incidents": len(false),
        "false_per_brand_day": round(len(false) / brand_days, 4),
        "false_per_brand_day_by_signal": {
            s: round(sum(1 for e in false if e.signal == s) / brand_days, 4) for s in sorted({e.signal for e in false})
        },
        "false_per_brand_day_by_volume": {
            c: round(sum(1 for e in false if classes[e.brand] == c) / class_days[c], 4) for c in sorted(class_days)
        },
        "injected": {k: sum(1 for e in injected if e.kind == k) for k in kinds},
        "recall": recall,
        "recall_all": _rate(len(detected), len(injected)),
        "first_signal": {
            k: dict(sorted(Counter(first_signal[e] for e in detected if e.kind == k).items())) for k in kinds
        },
        "minutes_to_detect": {
            k: {"median": statistics.median(v), "p90": v[int(0.9 * (len(v) - 1))]} if v else None
            for k, v in delays.items()
        },
        "seconds": round(seconds, 1),
        "buckets_per_second": round(buckets / seconds),
    }


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--brands", type=int, default=16)
    parser.add_argument("--days", type=int, default=12)
    parser.add_argument("--warmup-days", type=int, default=3)
    parser.add_argument("--events-per-brand", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    config = _configure(args.set)
    result = run(args.brands, args.days, args.warmup_days, args.seed, args.events_per_brand, config)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
