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


def post(
    i: int, text: str, embedding: np.ndarray | None = None, when: datetime = START, reach: int = 10
) -> NegativePost:
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


class Topics:
    """Unit 384-d vectors around topic centres sharing a common component, like sentence embeddings."""

    def __init__(self, rng: np.random.Generator, dim: int = 384) -> None:
        self.rng = rng
        self.dim = dim
        self.common = self._unit(rng.standard_normal(dim))

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        return np.asarray(v / np.linalg.norm(v))

    def centre(self) -> np.ndarray:
        return self._unit(0.85 * self.common + 0.53 * self._unit(self.rng.standard_normal(self.dim)))

    def near(self, centre: np.ndarray) -> np.ndarray:
        return self._unit(centre + self.rng.standard_normal(self.dim) * (0.35 / math.sqrt(self.dim)))


def traffic(
    rng: np.random.Generator, buckets: int, rate: float = 30.0, share: float = 0.1, posts: bool = True
) -> list[Bucket]:
    """A brand's normal buckets: seasonal volume, ``share`` negative, negative posts on three standing topics."""
    topics = Topics(rng)
    standing = [topics.centre() for _ in range(3)]
    words = [f"word{i}" for i in range(500)]
    counts = seasonal_counts(rng, buckets, rate)
    out = []
    for i, volume in enumerate(counts):
        negative = int(rng.binomial(volume, share))
        made = ()
        if posts:
            made = tuple(
                post(
                    i * 1_000 + k,
                    " ".join(rng.choice(words, 10)),
                    topics.near(standing[k % 3]),
                    at(i),
                    reach=int(rng.integers(10, 1_000)),
                )
                for k in range(negative)
            )
        reach = float(sum(p.reach for p in made)) if posts else 500.0 * negative
        out.append(bucket(i, volume, negative, negative_reach=reach, negative_posts=made))
    return out
