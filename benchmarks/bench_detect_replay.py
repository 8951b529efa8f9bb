"""How fast the detector rebuilds its state after a restart: N brands × D days of 1-minute count buckets.

    python -m benchmarks.bench_detect_replay [--brands 10] [--days 14] [--platforms 3]

What the worker replays from the ClickHouse rollups (counts, reach and per-platform counts; no post texts), through
the full ``Detector``. Buckets are generated first (not timed), then replayed; prints JSON with the seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.buckets import Bucket, PlatformCounts
from pipeline.detect.detector import Detector


def buckets(rng: np.random.Generator, brand: str, days: int, platforms: int) -> list[Bucket]:
    minutes = days * 1_440
    start = datetime(2026, 3, 2, tzinfo=UTC)
    rate = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
    hours = (np.arange(minutes) % 1_440) / 60.0
    volume = rng.poisson(rate * np.exp(0.6 * np.cos(2 * np.pi * (hours - 15.0) / 24.0)))
    negative = rng.binomial(volume, 0.2)
    names = [f"p{k}" for k in range(platforms)]
    out = []
    for i in range(minutes):
        split = rng.multinomial(int(volume[i]), [1.0 / platforms] * platforms)
        neg = rng.multinomial(int(negative[i]), [1.0 / platforms] * platforms)
        out.append(
            Bucket(
                brand=brand,
                start=start + timedelta(minutes=i),
                mentions=int(volume[i]),
                negative=int(negative[i]),
                negative_reach=float(negative[i]) * 800.0,
                platforms={n: PlatformCounts(int(split[k]), int(min(neg[k], split[k]))) for k, n in enumerate(names)},
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--brands", type=int, default=10)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--platforms", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    history = [buckets(rng, f"brand{b}", args.days, args.platforms) for b in range(args.brands)]
    detector = Detector(60.0)
    started = time.perf_counter()
    events = sum(len(detector.replay(series)) for series in history)
    seconds = time.perf_counter() - started
    total = sum(len(h) for h in history)
    print(
        json.dumps(
            {
                "brands": args.brands,
                "days": args.days,
                "platforms": args.platforms,
                "buckets": total,
                "seconds": round(seconds, 2),
                "seconds_per_brand": round(seconds / args.brands, 2),
                "buckets_per_second": round(total / seconds),
                "events_rederived": events,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
