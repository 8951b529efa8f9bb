"""Small seeded series and buckets for the detector tests (fast configurations, short warm-ups)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.detect.buckets import Bucket, NegativePost
from pipeline.detect.config import DAY, HOUR, DetectorConfig

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
#: 10-minute buckets, one day of warm-up: a few hundred buckets exercise everything in milliseconds
FAST = DetectorConfig(warmup_s=DAY, quiet_s=HOUR, update_every_s=HOUR)
INTERVAL = 600.0


def seasonal_counts(rng: np.random.Generator, buckets: int, rate: float, interval: float = INTERVAL) -> list[int]:
    """Poisson counts with a daily cycle (peak mid-afternoon) and mild overdispersion; ``rate`` per bucket."""
    t = np.arange(buckets) * interval
    season = np.exp(0.6 * np.cos(2 * math.pi * ((t % DAY) / HOUR - 15.0) / 24.0))
    mean = rate * season / season.mean() * rng.gamma(20.0, 1 / 20.0, buckets)
    return [int(x) for x in rng.poisson(mean)]


def at(i: int, interval: float = INTERVAL) -> datetime:
    return START + timedelta(seconds=i * interval)


def post(i: int, text: str, embedding: np.ndarray | None = None, when: datetime = START, reach: int = 10) -> NegativePost:
    return NegativePost(
        mention_id=f"m{i}",
        text=text,
        created_at=when,
        platform="x",
        author_handle=f"user{i}",
        embedding=None if embedding is None else [float(x) for x in embedding],
        reach=reach,
    )


def bucket(i: int, mentions: int, negative: int, brand: str = "acme", **kwargs: object) -> Bucket:
    return Bucket(brand=brand, start=at(i), mentions=mentions, negative=negative, **kwargs)  # type: ignore[arg-type]
