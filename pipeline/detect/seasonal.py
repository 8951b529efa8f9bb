"""A count baseline: deseasonalised level × daily profile × weekly profile, learned online.

``expected(t) = level · daily(hour of day) · weekly(day of week)``. The daily profile has 24 hourly slots and the
weekly one 7 daily slots, both read by linear interpolation between slot centres (no steps at slot edges) and
kept at mean 1, so ``level`` is the mean count per bucket. Each factor is an exponentially weighted mean of the
ratio ``observed / (what the other factors predict)``, with a fast start (a plain mean over the first visits).
The caller winsorises what it teaches (``learn``) so that a burst moves the baseline slowly. Times are UTC epoch
seconds of the bucket's midpoint; nothing here looks at any bucket other than the one being learned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pipeline.detect.config import DAY, HOUR, DetectorConfig

_DAILY_SLOTS = 24
_WEEKLY_SLOTS = 7
_MONDAY_OFFSET_DAYS = 3  # 1970-01-01 was a Thursday


def _slots(position: float, slots: int) -> tuple[int, int, float]:
    """The two slots around ``position`` (in slot units, slot centres at i + 0.5) and the weight of the first."""
    x = position - 0.5
    lo = math.floor(x)
    w_hi = x - lo
    return lo % slots, (lo + 1) % slots, 1.0 - w_hi


@dataclass
class SeasonalBaseline:
    interval_s: float
    config: DetectorConfig
    level: float = 0.0
    seen: float = 0.0  # buckets learned
    daily: list[float] = field(default_factory=lambda: [1.0] * _DAILY_SLOTS)
    daily_seen: list[float] = field(default_factory=lambda: [0.0] * _DAILY_SLOTS)
    weekly: list[float] = field(default_factory=lambda: [1.0] * _WEEKLY_SLOTS)
    weekly_seen: list[float] = field(default_factory=lambda: [0.0] * _WEEKLY_SLOTS)

    def __post_init__(self) -> None:
        dt = self.interval_s
        self._a_level = -math.expm1(-dt / self.config.level_tau_s)
        # a slot is visited by HOUR/dt buckets per day of data, a weekday by DAY/dt buckets per week
        self._a_daily = -math.expm1(-dt / (self.config.daily_tau_s * HOUR / DAY))
        self._a_weekly = -math.expm1(-dt / (self.config.weekly_tau_s / 7.0))

    def _factors(self, t_mid: float) -> tuple[float, float]:
        d0, d1, wd = _slots((t_mid % DAY) / HOUR, _DAILY_SLOTS)
        w0, w1, ww = _slots(t_mid / DAY + _MONDAY_OFFSET_DAYS, _WEEKLY_SLOTS)
        daily = wd * self.daily[d0] + (1.0 - wd) * self.daily[d1]
        weekly = ww * self.weekly[w0] + (1.0 - ww) * self.weekly[w1]
        return daily, weekly

    def expected(self, t_mid: float, exposure: float = 0.0) -> float:
        daily, weekly = self._factors(t_mid)
        return self.level * daily * weekly

    def learn(self, t_mid: float, count: float, exposure: float = 0.0) -> None:
        """Teach one (already winsorised) bucket count."""
        daily, weekly = self._factors(t_mid)
        self.seen += 1.0
        season = max(daily * weekly, 1e-6)
        a = max(self._a_level, 1.0 / self.seen)
        self.level += a * (count / season - self.level)
        if self.level <= 0.0:
            return
        d0, d1, wd = _slots((t_mid % DAY) / HOUR, _DAILY_SLOTS)
        ratio_d = count / (self.level * max(weekly, 1e-6))
        for slot, w in ((d0, wd), (d1, 1.0 - wd)):
            self.daily_seen[slot] += w
            rate = w * max(self._a_daily, 1.0 / self.daily_seen[slot]) if self.daily_seen[slot] > 0 else 0.0
            self.daily[slot] += rate * (ratio_d - self.daily[slot])
        w0, w1, ww = _slots(t_mid / DAY + _MONDAY_OFFSET_DAYS, _WEEKLY_SLOTS)
        ratio_w = count / (self.level * max(daily, 1e-6))
        for slot, w in ((w0, ww), (w1, 1.0 - ww)):
            self.weekly_seen[slot] += w
            rate = w * max(self._a_weekly, 1.0 / self.weekly_seen[slot]) if self.weekly_seen[slot] > 0 else 0.0
            self.weekly[slot] += rate * (ratio_w - self.weekly[slot])
        if (t_mid % HOUR) < self.interval_s:  # once an hour: keep both profiles at mean 1
            self._normalise()

    def to_state(self) -> list[Any]:
        return [self.level, self.seen, self.daily, self.daily_seen, self.weekly, self.weekly_seen]

    def load_state(self, state: list[Any]) -> None:
        self.level, self.seen, daily, daily_seen, weekly, weekly_seen = state
        self.daily, self.daily_seen = list(daily), list(daily_seen)
        self.weekly, self.weekly_seen = list(weekly), list(weekly_seen)

    def _normalise(self) -> None:
        for profile in (self.daily, self.weekly):
            mean = sum(profile) / len(profile)
            if mean > 0.0:
                for i in range(len(profile)):
                    profile[i] /= mean
                self.level *= mean


@dataclass
class ShareBaseline:
    """Expected count = baseline share × exposure (negatives given this bucket's volume).

    The share is the ratio of exponentially weighted sums (time constant ``share_tau_s``), starting from a weak
    prior of one negative in four mentions. Being conditional on the bucket's own volume, it needs no seasonality.
    """

    interval_s: float
    config: DetectorConfig
    seen: float = 0.0
    count_sum: float = 1.0
    exposure_sum: float = 4.0

    def __post_init__(self) -> None:
        self._keep = math.exp(-self.interval_s / self.config.share_tau_s)

    @property
    def share(self) -> float:
        return self.count_sum / self.exposure_sum

    def expected(self, t_mid: float, exposure: float = 0.0) -> float:
        return self.share * exposure

    def learn(self, t_mid: float, count: float, exposure: float = 0.0) -> None:
        self.seen += 1.0
        self.count_sum = self._keep * self.count_sum + count
        self.exposure_sum = self._keep * self.exposure_sum + exposure

    def to_state(self) -> list[Any]:
        return [self.seen, self.count_sum, self.exposure_sum]

    def load_state(self, state: list[Any]) -> None:
        self.seen, self.count_sum, self.exposure_sum = state
