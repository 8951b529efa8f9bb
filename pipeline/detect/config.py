"""The detector's fixed configuration. Every default is argued for in docs/detection.md ("Defaults").

Times are in seconds so the same configuration works for any bucket interval (the pipeline feeds 1-minute
buckets, NAB series are 5-minute buckets): whatever is a count of buckets is derived from the interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MINUTE = 60.0
HOUR = 3_600.0
DAY = 86_400.0


@dataclass(frozen=True)
class DetectorConfig:
    #: False incidents per brand per day that the count signals may spend (the product's goal is <= 0.1). Each
    #: channel gets a share (``BRAND_SHARE`` / ``PLATFORM_SHARE``; a lone series, ``luister detect``, all of it),
    #: split evenly over the buckets of a day and the tests: that is the per-test tail probability ``alpha``,
    #: against the *calibrated* tail (evt.py), so it is what the channel really spends, not a nominal figure.
    false_alarm_budget: float = 0.1
    #: Persistence tests: a window of ``persistence_blocks`` consecutive blocks of each of these lengths is
    #: anomalous only if *every* block is elevated (the least surprising block decides). Real crises last;
    #: a single outlying bucket (a retweet storm, a bot run) raises one block only. The bucket on its own is
    #: tested too (the burst test), against its own, heavier, calibrated tail. The hour blocks catch what the
    #: hourly checks of the commercial suites catch: a slow-burning rise that no minute shows (docs/detection.md).
    persistence_block_s: tuple[float, ...] = (MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR)
    persistence_blocks: int = 4
    #: Practical significance: an anomaly is also at least this many times the expectation ...
    min_ratio: float = 2.0
    #: ... and at least this many mentions above it, so a low-volume brand going from 0.2 to 3 does not page anyone.
    min_excess: float = 5.0
    #: An open incident stays open while the score is at least this (hysteresis; the opening score is 0.5).
    hold_score: float = 0.3
    #: An incident resolves after this long without an anomalous bucket; no new incident of the same key and
    #: signal opens meanwhile (the cooldown against flapping).
    quiet_s: float = HOUR
    #: While open and anomalous, an ``updated`` event at most this often (escalations are immediate).
    update_every_s: float = 15 * MINUTE
    #: No alert before this much data has been seen per key (two full days: the daily profile seen twice).
    warmup_s: float = 2 * DAY
    #: Time constants of the baseline: deseasonalised level, daily profile (per slot, in days of data), weekly
    #: profile (per weekday), and the dispersion estimates.
    level_tau_s: float = 12 * HOUR
    daily_tau_s: float = 7 * DAY
    weekly_tau_s: float = 28 * DAY
    dispersion_tau_s: float = 3 * DAY
    #: Memory of the tail calibration (evt.py): long, because the tail is made of rare events.
    tail_tau_s: float = 28 * DAY
    #: Learning is winsorised at this many standard deviations: a burst moves the baseline slowly.
    clip_sd: float = 3.0
    initial_dispersion: float = 0.1
    min_dispersion: float = 1e-3
    #: Negative share: the baseline share's time constant (it is not seasonal: the volume it multiplies is).
    share_tau_s: float = 3 * DAY
    #: Reach: the typical reach of a negative post (the unit of the reach signal) is learned over this long.
    reach_tau_s: float = 7 * DAY
    #: Near-duplicates: a negative post is a near-duplicate if one within this long before it is (SimHash).
    duplicate_window_s: float = 15 * MINUTE
    #: Per-platform keys alert only when the platform's baseline is at least this many mentions an hour.
    platform_min_per_hour: float = 30.0
    #: Themes (themes.py): cosine similarity that joins a cluster (e5-small embeddings of unrelated posts sit
    #: around 0.7-0.8), posts within the window that make a new cluster a theme, what "new" means, and the
    #: bound on clusters kept per brand.
    theme_similarity: float = 0.88
    theme_min_posts: int = 10
    theme_window_s: float = HOUR
    theme_baseline_s: float = DAY
    theme_max_clusters: int = 200
    #: Severity = the lower of the two levels reached: ratio to expectation, and excess count.
    severity_ratio: tuple[float, float, float] = (4.0, 8.0, 16.0)
    severity_excess: tuple[float, float, float] = (20.0, 80.0, 320.0)

    def tests(self, interval_s: float) -> tuple[tuple[int, int], ...]:
        """(block length in buckets, blocks) per test: the burst test (1, 1) first, then the persistence tests."""
        sizes = sorted({max(1, round(b / interval_s)) for b in self.persistence_block_s})
        return ((1, 1), *((b, self.persistence_blocks) for b in sizes))

    def log10_alpha(self, interval_s: float, share: float = 1.0) -> float:
        """log10 of the per-test tail probability that opens an incident, for a channel with ``share`` of the
        budget."""
        tests_per_day = (DAY / interval_s) * len(self.tests(interval_s))
        return math.log10(self.false_alarm_budget * share / tests_per_day)


DEFAULT_CONFIG = DetectorConfig()
#: Budget shares: half for the brand's five signals (one tenth each), half for its platform keys' two signals,
#: assuming up to five platforms above ``platform_min_per_hour`` (one twentieth each).
BRAND_SHARE = 0.1
PLATFORM_SHARE = 0.05
