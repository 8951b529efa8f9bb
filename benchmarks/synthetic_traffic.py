"""Synthetic brand traffic for the detector's benchmarks: normal, noisy, seasonal minutes, and injected crises.

Per brand (1-minute buckets): a mean rate drawn log-uniformly between 0.02 and 30 mentions a minute (30 a day to
43,000 a day), a daily profile (amplitude and peak hour per brand), a weekend factor, a slow random-walk drift, a
correlated log-level noise (AR(1), ~30-minute memory), gamma overdispersion per minute, heavy-tailed normal spikes
(retweet chains: Pareto-sized, 1-3 minutes, about two a day), connector outages (missing buckets), a negative share
with its own noise, follower counts (log-normal reach), a few percent of copy-paste duplicates, and embeddings
around the brand's standing topics (with the common component real sentence embeddings share).

Injected events (never in the first ``warmup_days``) are what a human wants to hear about, sized from the brand's
own volume with a floor for small brands:
- ``crisis``: extra negative posts at 2-5x the brand's current volume (at least 0.5 a minute), ramping up over
  5 minutes, lasting 45 minutes, about one new topic (a new cluster of similar posts);
- ``flood``: a bot run: the same few sentences copy-pasted, at the same size;
- ``influencer``: one negative post by an account with 100-1000x the brand's typical reach, plus a handful of
  replies;
- ``slow``: a slow-burning complaint (a product defect, a service change): extra negative posts at 0.3-0.6x the
  brand's current volume (at least 0.1 a minute), ramping up over an hour, lasting 6 hours, on one of the brand's
  standing topics. No single minute stands out; only hours do.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from pipeline.detect.buckets import Bucket, NegativePost, PlatformCounts

DIM = 384
MINUTE = 60.0
DAY = 86_400.0
PLATFORMS = ("x", "reddit", "news")
# letters only (the theme terms skip tokens with digits): "ba", "be", ... syllable pairs
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
VOCABULARY = np.array([a + b + c for a in _SYLLABLES[:30] for b in _SYLLABLES[:10] for c in _SYLLABLES[:10]])


@dataclass(frozen=True)
class BrandSpec:
    name: str
    rate: float  # mean mentions per minute
    amplitude: float
    peak_hour: float
    weekend: float
    noise_sd: float
    phi: float
    negative_share: float
    platform_shares: tuple[float, ...]


@dataclass(frozen=True)
class Injected:
    brand: str
    kind: str
    start: float  # epoch seconds (a bucket start)
    duration_s: float


@dataclass(frozen=True)
class _Shape:
    """How an injected run of posts grows: extra posts a minute at ``size`` times the brand's volume (at least
    ``floor_per_minute``), reached linearly over ``ramp_minutes``, for ``duration_s``."""

    size: tuple[float, float]
    floor_per_minute: float
    ramp_minutes: float
    duration_s: float


_SHAPES = {
    "crisis": _Shape((2.0, 5.0), 0.5, 5.0, 45 * MINUTE),  # a flood has the same shape, other texts
    "slow": _Shape((0.3, 0.6), 0.1, 60.0, 6 * 60 * MINUTE),
}


def brand_specs(rng: np.random.Generator, brands: int) -> list[BrandSpec]:
    specs = []
    for i in range(brands):
        shares = rng.dirichlet([4.0, 2.0, 1.0])
        specs.append(
            BrandSpec(
                name=f"brand{i:02d}",
                rate=float(math.exp(rng.uniform(math.log(0.02), math.log(30.0)))),
                amplitude=float(rng.uniform(0.4, 0.9)),
                peak_hour=float(rng.uniform(11.0, 21.0)),
                weekend=float(rng.uniform(0.6, 0.95)),
                noise_sd=float(rng.uniform(0.1, 0.25)),
                phi=float(rng.uniform(0.02, 0.1)),
                negative_share=float(rng.uniform(0.1, 0.35)),
                platform_shares=tuple(float(s) for s in shares),
            )
        )
    return specs


def schedule(
    rng: np.random.Generator, specs: list[BrandSpec], start: float, days: int, warmup_days: int, per_brand: int
) -> list[Injected]:
    kinds = ("crisis", "flood", "influencer", "slow")
    events = []
    for spec in specs:
        span = (days - warmup_days) * DAY
        slots = np.sort(rng.choice(int(span / DAY * 2), size=per_brand, replace=False))  # at most one per 12 h
        for k, slot in enumerate(slots):
            offset = warmup_days * DAY + float(slot) * DAY / 2 + float(rng.uniform(0, DAY / 2 - 6 * 3_600))
            at = start + math.floor(offset / MINUTE) * MINUTE
            kind = kinds[k % len(kinds)]
            events.append(Injected(spec.name, kind, at, _SHAPES.get(kind, _SHAPES["crisis"]).duration_s))
    return events


class _Embedder:
    """Unit vectors around topic centres that share a common component (cosine ~0.7 between topics)."""

    def __init__(self, rng: np.random.Generator, topics: int) -> None:
        self.rng = rng
        self.common = self._unit(rng.standard_normal(DIM))
        self.topics = [self.topic() for _ in range(topics)]

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        return np.asarray(v / np.linalg.norm(v, axis=-1, keepdims=True))

    def topic(self) -> np.ndarray:
        return self._unit(0.85 * self.common + 0.53 * self._unit(self.rng.standard_normal(DIM)))

    def around(self, centre: np.ndarray, n: int) -> np.ndarray:
        noise = self.rng.standard_normal((n, DIM)) * (0.4 / math.sqrt(DIM))
        return self._unit(centre + noise)


def brand_buckets(
    rng: np.random.Generator, spec: BrandSpec, start: float, days: int, injected: list[Injected]
) -> Iterator[Bucket]:
    minutes = int(days * DAY / MINUTE)
    t = start + np.arange(minutes) * MINUTE
    hours = (t % DAY) / 3_600.0
    weekday = ((t // DAY).astype(int) + 3) % 7
    season = np.exp(spec.amplitude * np.cos(2 * math.pi * (hours - spec.peak_hour) / 24.0))
    season /= season.mean()
    season *= np.where(weekday >= 5, spec.weekend, 1.0)
    keep = math.exp(-1.0 / 30.0)
    ar = np.zeros(minutes)
    shocks = rng.standard_normal(minutes) * spec.noise_sd * math.sqrt(1 - keep * keep)
    for i in range(1, minutes):
        ar[i] = keep * ar[i - 1] + shocks[i]
    drift = np.cumsum(rng.standard_normal(minutes)) * (0.05 / math.sqrt(1440))
    rate = spec.rate * season * np.exp(ar + drift)
    rate *= rng.gamma(1.0 / spec.phi, spec.phi, minutes)
    volume = rng.poisson(rate)
    for s in np.flatnonzero(rng.random(minutes) < 2.0 / 1440):  # heavy-tailed normal spikes
        extra = int(max(1.0, spec.rate) * (rng.pareto(1.5) + 1.0))
        span = int(rng.integers(1, 4))
        volume[s : s + span] += extra // span
    share = np.clip(spec.negative_share * np.exp(rng.standard_normal(minutes) * 0.15), 0.0, 1.0)
    negative = rng.binomial(volume, share)
    missing = np.zeros(minutes, dtype=bool)
    for s in np.flatnonzero(rng.random(minutes) < 1.0 / (7 * 1440)):  # about one outage a week
        missing[s : s + int(rng.integers(10, 180))] = True
    embedder = _Embedder(rng, topics=8)
    events = {int((e.start - start) // MINUTE): e for e in injected if e.brand == spec.name}
    active: list[tuple[int, Injected, np.ndarray]] = []
    recent_texts: list[str] = []
    for i in range(minutes):
        if i in events:
            active.append((i, events[i], embedder.topic()))
        extra_posts: list[tuple[str, np.ndarray, int]] = []
        for began, event, centre in list(active):
            age = i - began
            if age * MINUTE >= event.duration_s:
                active.remove((began, event, centre))
                continue
            extra_posts += _event_posts(rng, spec, event, age, float(rate[i]), centre, embedder)
        if missing[i] and not extra_posts:
            continue
        yield _bucket(rng, spec, float(t[i]), int(volume[i]), int(negative[i]), extra_posts, embedder, recent_texts)


def _event_posts(
    rng: np.random.Generator,
    spec: BrandSpec,
    event: Injected,
    age: int,
    rate_now: float,
    centre: np.ndarray,
    embedder: _Embedder,
) -> list[tuple[str, np.ndarray, int]]:
    reach = int(math.exp(math.log(300.0) + 0.5 * 1.5**2))
    if event.kind == "influencer":
        if age == 0:
            return [("everyone stay away from this brand", embedder.around(centre, 1)[0], reach * 300)]
        return [] if age > 5 else [(f"reply {VOCABULARY[age]}", embedder.around(centre, 1)[0], reach)]
    shape = _SHAPES.get(event.kind, _SHAPES["crisis"])
    plateau = max(rng.uniform(*shape.size) * max(rate_now, spec.rate * 0.5), shape.floor_per_minute)
    n = int(rng.poisson(plateau * min(1.0, (age + 1) / shape.ramp_minutes)))
    if event.kind == "slow":  # more of a standing topic, not a new one: the theme signal has nothing new to see
        vectors = embedder.around(embedder.topics[0], n)
        return [(f"still waiting {' '.join(rng.choice(VOCABULARY, 6))}", vectors[k], reach) for k in range(n)]
    vectors = embedder.around(centre, n)
    if event.kind == "flood":
        script = ["this brand scammed me", "do not buy from this brand it is a scam", "brand stole my money"]
        return [(f"{script[k % 3]} #{event.brand}", vectors[k], reach) for k in range(n)]
    theme = "brakes snapped recall lawsuit injury"
    return [(f"{theme} {' '.join(rng.choice(VOCABULARY, 6))}", vectors[k], reach) for k in range(n)]


def _bucket(
    rng: np.random.Generator,
    spec: BrandSpec,
    at: float,
    volume: int,
    negative: int,
    extra: list[tuple[str, np.ndarray, int]],
    embedder: _Embedder,
    recent_texts: list[str],
) -> Bucket:
    moment = datetime.fromtimestamp(at, UTC)
    posts = []
    topics = rng.integers(0, len(embedder.topics), negative)
    reaches = rng.lognormal(math.log(300.0), 1.5, negative).astype(int)
    vectors = embedder.around(np.stack([embedder.topics[int(k)] for k in topics]), negative) if negative else None
    copies = rng.random(negative) < 0.03
    lengths = rng.integers(8, 16, negative)
    for k in range(negative):
        if recent_texts and copies[k]:
            text = recent_texts[int(rng.integers(0, len(recent_texts)))]  # a copy: retweet, quote
        else:
            text = " ".join(rng.choice(VOCABULARY, int(lengths[k])))
        posts.append((text, vectors[k], int(reaches[k])))  # type: ignore[index]
    posts += extra
    recent_texts[:] = (recent_texts + [p[0] for p in posts])[-200:]
    volume += len(extra)
    negative += len(extra)
    made = tuple(
        NegativePost(
            mention_id=f"{spec.name}-{int(at)}-{k}",
            text=text,
            created_at=moment,
            platform=PLATFORMS[k % len(PLATFORMS)],
            author_handle=f"user{k}",
            embedding=vector,
            reach=reach,
        )
        for k, (text, vector, reach) in enumerate(posts)
    )
    shares = np.asarray(spec.platform_shares)
    per_platform = rng.multinomial(volume, shares)
    neg_platform = rng.multinomial(negative, shares)
    platforms = {
        p: PlatformCounts(int(per_platform[j]), int(min(neg_platform[j], per_platform[j])))
        for j, p in enumerate(PLATFORMS)
    }
    return Bucket(
        brand=spec.name,
        start=moment,
        mentions=volume,
        negative=negative,
        negative_reach=float(sum(p[2] for p in posts)),
        platforms=platforms,
        negative_posts=made,
    )
