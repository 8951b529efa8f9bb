"""The crisis detector: every brand's signals, one bucket at a time, emitting ``IncidentEvent``s.

Signals per brand (all platforms together): ``volume``, ``negative_volume``, ``negative_share`` (negatives given the
bucket's volume), ``reach_negativity`` (the negatives' reach in units of a typical negative post's reach),
``near_duplicates`` (negative posts that copy one from the last ``duplicate_window_s``), and ``theme`` (themes.py).
Per platform: ``volume`` and ``negative_volume``, alerting only where the platform's baseline is at least
``platform_min_per_hour``.

Deterministic: the events depend only on the buckets given, in order (no clock, no randomness), so replaying the
same history rebuilds the same state and re-emits the same ids. ``peek`` evaluates a still-filling bucket for the
signals that only grow with it (volume, negative volume, reach), opening incidents early; the completed bucket is
then given to ``observe`` as usual and learned once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.detect.buckets import Bucket
from pipeline.detect.channel import Assessment, CountChannel
from pipeline.detect.config import BRAND_SHARE, DEFAULT_CONFIG, HOUR, PLATFORM_SHARE, DetectorConfig
from pipeline.detect.lifecycle import IncidentTracker
from pipeline.detect.simhash import NearDuplicateIndex, simhash
from pipeline.detect.state import STATE_VERSION, themes_from_state, themes_to_state
from pipeline.detect.summaries import describe
from pipeline.detect.theme_incidents import ThemeIncidents
from pipeline.incidents import IncidentEvent, Signal

BRAND_SIGNALS: tuple[Signal, ...] = (
    "volume",
    "negative_volume",
    "negative_share",
    "reach_negativity",
    "near_duplicates",
)
PLATFORM_SIGNALS: tuple[Signal, ...] = ("volume", "negative_volume")
_GROWING: frozenset[Signal] = frozenset({"volume", "negative_volume", "reach_negativity"})


@dataclass
class _Key:
    channel: CountChannel
    tracker: IncidentTracker


@dataclass
class BrandDetector:
    brand: str
    interval_s: float
    config: DetectorConfig
    keys: dict[tuple[str | None, Signal], _Key] = field(default_factory=dict)
    reach_sum: float = 0.0
    reach_posts: float = 0.0
    last_start: float | None = None
    _warm_at: float = math.inf  # end of the bucket that completed the brand's warm-up

    def __post_init__(self) -> None:
        self.duplicates = NearDuplicateIndex(self.config.duplicate_window_s)
        self.themes = ThemeIncidents(self.brand, self.interval_s, self.config)
        self._reach_keep = math.exp(-self.interval_s / self.config.reach_tau_s)
        for signal in BRAND_SIGNALS:
            self._key(None, signal)

    def _key(self, platform: str | None, signal: Signal) -> _Key:
        key = self.keys.get((platform, signal))
        if key is None:
            share = BRAND_SHARE if platform is None else PLATFORM_SHARE
            channel = CountChannel(self.interval_s, self.config, signal == "negative_share", share)
            tracker = IncidentTracker(self.brand, platform, signal, self.interval_s, self.config)
            key = self.keys[(platform, signal)] = _Key(channel, tracker)
        return key

    @property
    def warm_since(self) -> float:
        """When the brand-level volume channel finished its warm-up (inf before)."""
        channel = self.keys[(None, "volume")].channel
        return math.inf if not channel.warm else self._warm_at

    def _typical_reach(self) -> float:
        return self.reach_sum / self.reach_posts if self.reach_posts > 0 and self.reach_sum > 0 else 0.0

    def _values(self, bucket: Bucket, partial: bool) -> list[tuple[str | None, Signal, float, float]]:
        """(platform, signal, count, exposure) for every key with data in this bucket."""
        out: list[tuple[str | None, Signal, float, float]] = [
            (None, "volume", bucket.mentions, 0.0),
            (None, "negative_volume", bucket.negative, 0.0),
        ]
        if not partial:
            out.append((None, "negative_share", bucket.negative, bucket.mentions))
        typical = self._typical_reach()
        if typical > 0:
            out.append((None, "reach_negativity", bucket.negative_reach / typical, 0.0))
        if not partial and (bucket.negative == 0 or bucket.negative_posts):
            at = bucket.start.timestamp() + self.interval_s
            dups = sum(self.duplicates.add(at, simhash(p.text)) for p in bucket.negative_posts)
            out.append((None, "near_duplicates", float(dups), 0.0))
        platforms = dict(bucket.platforms)
        if platforms or bucket.mentions == 0:
            for platform in sorted({p for p, _ in self.keys if p is not None} | set(platforms)):
                counts = platforms.get(platform)
                out.append((platform, "volume", float(counts.mentions if counts else 0), 0.0))
                out.append((platform, "negative_volume", float(counts.negative if counts else 0), 0.0))
        return out

    def _allowed(self, platform: str | None, channel: CountChannel) -> bool:
        if platform is None:
            return True
        level_per_hour = getattr(channel.baseline, "level", 0.0) * HOUR / self.interval_s
        return bool(level_per_hour >= self.config.platform_min_per_hour)

    def _gate(self, platform: str | None, signal: Signal, channel: CountChannel, a: Assessment) -> Assessment:
        if platform is None and signal != "volume":
            volume = self.keys[(None, "volume")].channel
            if not volume.warm:  # every brand signal waits for the brand's own warm-up
                return _cold(a)
        if not self._allowed(platform, self.keys[(platform, "volume")].channel):
            return _cold(a)
        return a

    def observe(self, bucket: Bucket) -> list[IncidentEvent]:
        start = bucket.start.timestamp()
        if self.last_start is not None and start <= self.last_start:
            raise ValueError(f"{self.brand}: bucket {bucket.start} is not after the last one")
        self.last_start = start
        events: list[IncidentEvent] = []
        for platform, signal, count, exposure in self._values(bucket, partial=False):
            key = self._key(platform, signal)
            a = self._gate(platform, signal, key.channel, key.channel.observe(start, count, exposure))
            events += key.tracker.step(a, key.channel.upper, describe(signal, key.channel))
        if self._warm_at == math.inf and self.keys[(None, "volume")].channel.warm:
            self._warm_at = start + self.interval_s
        self.reach_sum = self._reach_keep * self.reach_sum + bucket.negative_reach
        self.reach_posts = self._reach_keep * self.reach_posts + bucket.negative
        events += self.themes.observe(start + self.interval_s, bucket.negative_posts, self.warm_since)
        return events

    def peek(self, bucket: Bucket, now: float) -> list[IncidentEvent]:
        start = bucket.start.timestamp()
        if self.last_start is not None and start <= self.last_start:
            return []  # already completed
        events: list[IncidentEvent] = []
        for platform, signal, count, exposure in self._values(bucket, partial=True):
            if signal not in _GROWING or (platform, signal) not in self.keys:
                continue
            key = self.keys[(platform, signal)]
            a = self._gate(platform, signal, key.channel, key.channel.assess(start, count, exposure))
            events += key.tracker.peek(a, now, key.channel.upper, describe(signal, key.channel))
        return events

    def to_state(self) -> dict[str, Any]:
        return {
            "last_start": self.last_start,
            "warm_at": None if self._warm_at == math.inf else self._warm_at,
            "reach": [self.reach_sum, self.reach_posts],
            "keys": [
                [platform, signal, key.channel.to_state(), key.tracker.to_state()]
                for (platform, signal), key in self.keys.items()
            ],
            "duplicates": self.duplicates.to_state(),
            "themes": themes_to_state(self.themes.tracker),
            "theme_incidents": [[cid, t.to_state()] for cid, t in self.themes.open.items()],
            "theme_posts_since": self.themes.posts_since,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.last_start = state["last_start"]
        self._warm_at = math.inf if state["warm_at"] is None else state["warm_at"]
        self.reach_sum, self.reach_posts = state["reach"]
        for platform, signal, channel_state, tracker_state in state["keys"]:
            key = self._key(platform, signal)
            key.channel.load_state(channel_state)
            key.tracker.load_state(tracker_state)
        self.duplicates.load_state(state["duplicates"])
        themes_from_state(self.themes.tracker, state["themes"])
        self.themes.posts_since = state.get("theme_posts_since")
        self.themes.open = {}
        for cid, tracker_state in state["theme_incidents"]:
            tracker = IncidentTracker(self.brand, None, "theme", self.interval_s, self.config, key=cid)
            tracker.load_state(tracker_state)
            self.themes.open[cid] = tracker


def _cold(a: Assessment) -> Assessment:
    return Assessment(a.start, a.observed, a.expected, a.window, a.log10_p, a.score, warm=False)


class Detector:
    """Every brand's detector. Give each brand's buckets in time order (brands may interleave)."""

    def __init__(self, interval_s: float = 60.0, config: DetectorConfig = DEFAULT_CONFIG) -> None:
        self.interval_s = interval_s
        self.config = config
        self.brands: dict[str, BrandDetector] = {}

    def _brand(self, brand: str) -> BrandDetector:
        detector = self.brands.get(brand)
        if detector is None:
            detector = self.brands[brand] = BrandDetector(brand, self.interval_s, self.config)
        return detector

    def observe(self, bucket: Bucket) -> list[IncidentEvent]:
        """A completed bucket: learn it, and return the incident steps it causes."""
        return self._brand(bucket.brand).observe(bucket)

    def peek(self, bucket: Bucket, now: datetime) -> list[IncidentEvent]:
        """The current, still-filling bucket (counts so far): may open incidents early; learns nothing."""
        return self._brand(bucket.brand).peek(bucket, now.timestamp())

    def to_state(self) -> dict[str, Any]:
        """Everything the detector knows, as JSON-able data (see state.py)."""
        return {
            "version": STATE_VERSION,
            "interval_s": self.interval_s,
            "brands": {name: brand.to_state() for name, brand in sorted(self.brands.items())},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], config: DetectorConfig = DEFAULT_CONFIG) -> Detector:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"detector state version {state.get('version')} is not {STATE_VERSION}")
        detector = cls(state["interval_s"], config)
        for name, brand_state in state["brands"].items():
            detector._brand(name).load_state(brand_state)
        return detector

    def replay(self, buckets: list[Bucket]) -> list[IncidentEvent]:
        """Rebuild state from history (e.g. after a restart); returns the events it re-derives, which delivery
        has already seen (same ids) and drops."""
        events: list[IncidentEvent] = []
        for bucket in buckets:
            events += self.observe(bucket)
        return events
