"""What the detector reads: one ``Bucket`` per brand × interval (1 minute in the pipeline), in time order per brand.

Fill it from ClickHouse: counts and reach from ``sentiment_minute_v`` (sum ``mentions`` per minute × brand, and
per platform; ``negative`` = the ``sentiment = 'negative'`` rows; ``negative_reach`` = their ``reach`` (followers)
plus ``likes + shares + replies``), posts from ``mentions_v`` (the minute's negative mentions of the brand, with
``text`` and ``embedding``).

A bucket that is not given is *no data* (an outage, a gap before the first mention): it is neither learned nor
counted. A minute in which the pipeline ran and saw nothing must be given, with zero counts: that is what makes a
quiet night quiet. ``negative_posts`` may be empty even when ``negative > 0`` (counts-only replay from rollups);
the near-duplicate and theme signals then treat the bucket as no data for themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    mentions: int
    negative: int
    negative_reach: float = 0.0


@dataclass(frozen=True, slots=True)
class NegativePost:
    """One negative mention, as the near-duplicate and theme signals need it (and as an incident shows it)."""

    mention_id: str
    text: str
    created_at: datetime  # aware
    platform: str = ""
    author_handle: str = ""
    #: the encoder's L2-normalised embedding (384-d by default): any float sequence (a list, a numpy array)
    embedding: Sequence[float] | None = None
    url: str | None = None
    author_followers: int | None = None
    reach: int = 0  # followers + engagement
    lang: str | None = None
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    brand: str
    start: datetime  # aware; the interval is the detector's
    mentions: int
    negative: int
    negative_reach: float = 0.0
    platforms: Mapping[str, PlatformCounts] = field(default_factory=dict)
    negative_posts: tuple[NegativePost, ...] = ()

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("Bucket.start must be timezone-aware")
        if self.mentions < 0 or self.negative < 0 or self.negative > self.mentions:
            raise ValueError(f"counts out of range: mentions={self.mentions} negative={self.negative}")
