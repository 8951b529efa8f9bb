"""Calibrating a surprise statistic's tail to the series itself: peaks over threshold (extreme value theory).

Real mention counts have heavier tails than any count model fitted to their bulk (a retweet storm, a bot run):
taken at face value, the negative-binomial p-value of a Twitter volume series is below 1e-5 in about 1% of its
5-minute buckets, not in 1e-5 of them. So the p-value is used as a *statistic*, ``x = -log10 p``, whose own tail is
learned. Its tail is heavy (a power law: fitted on ``x - T0`` directly, the shape came out at 0.3-0.45 on the NAB
Twitter series), so, as the Hill estimator does, the excesses are taken on the log scale, ``y = ln(x / T0)``, where
they are close to exponential; by the Pickands–Balkema–de Haan theorem they follow a generalised Pareto
distribution (GPD), fitted by the method of moments on exponentially weighted moments (time constant
``tail_tau_s``; O(1) memory). The estimated probability of a value at least ``x`` is
``rate · (1 + γ y / σ)^(-1/γ)``; the alert level is where that equals the per-test false-alarm budget.

A prior worth ``PRIOR_PEAKS`` peaks is pooled with the data: the calibrated model's own tail (if the count model
were exact, ``P(x > t) = 10^-t``: rate 1e-2 at ``T0`` = 2, ``x - T0`` exponential with scale 1/ln 10, so that
``y`` has mean 0.18, taken as an exponential's). The shape is
kept in [0, 0.45]: no finite end point (counts are unbounded) and a finite variance (the method of moments).

Exceedances come in clusters (a burst lasts several buckets, and a persistence test stays high while it lasts):
they are declustered by runs, as usual for dependent series: a cluster ends after ``run`` observations at or
below ``T0`` and contributes its maximum as one peak. The rate is then clusters per observation, which is what the
budget counts: incidents, not anomalous buckets. Every cluster is learned, anomalies included: leaving out what
exceeds the current level (as SPOT does) truncates the tail, which lowers the level, which truncates more; on the
NAB series that feedback made the level collapse (ten to fifty times the budgeted alarms).
"""

from __future__ import annotations

import math

T0 = 2.0
PRIOR_RATE = 10.0**-T0
PRIOR_SCALE = 0.18  # E[ln(1 + E / T0)] for E exponential with scale 1 / ln 10 (computed: 0.183)
PRIOR_PEAKS = 20.0
MAX_SHAPE = 0.45


class TailCalibration:
    """Exponentially weighted peaks of one statistic; ``log10_tail(x)`` is log10 of the estimated P(X >= x)."""

    def __init__(self, keep: float, run: int) -> None:
        self.keep = keep  # weight left to the past after one observation: exp(-interval / tau)
        self.run = run  # observations at or below T0 that end a cluster
        self.cluster_max = 0.0  # > 0 while a cluster is open
        self.quiet = 0
        self.n_obs = 0.0
        self.n_peaks = 0.0
        self.s1 = 0.0  # weighted sum of excesses over T0
        self.s2 = 0.0  # ... of their squares
        self._fit: tuple[float, float, float] | None = None

    def fit(self) -> tuple[float, float, float]:
        """(log10 rate of exceeding T0, GPD scale, GPD shape), data and prior pooled."""
        if self._fit is None:
            peaks = self.n_peaks + PRIOR_PEAKS
            rate = peaks / (self.n_obs + PRIOR_PEAKS / PRIOR_RATE)
            m = (self.s1 + PRIOR_PEAKS * PRIOR_SCALE) / peaks
            m2 = (self.s2 + PRIOR_PEAKS * 2.0 * PRIOR_SCALE**2) / peaks
            var = max(m2 - m * m, 1e-12)
            shape = min(max(0.5 * (1.0 - m * m / var), 0.0), MAX_SHAPE)
            scale = m * (1.0 - shape)  # the GPD's mean is scale / (1 - shape)
            self._fit = (math.log10(rate), scale, shape)
        return self._fit

    def log10_tail(self, x: float) -> float:
        if x <= T0:
            return min(0.0, -x)  # the bulk: the model's own p-value
        log10_rate, scale, shape = self.fit()
        y = math.log(x / T0)
        log_sf = -y / scale if shape < 1e-09 else -math.log1p(shape * y / scale) / shape
        return log10_rate + log_sf / math.log(10.0)

    def learn(self, x: float) -> None:
        k = self.keep
        self.n_obs = k * self.n_obs + 1.0
        self.n_peaks *= k
        self.s1 *= k
        self.s2 *= k
        self._fit = None
        if x > T0:
            self.cluster_max = max(self.cluster_max, math.log(x / T0))
            self.quiet = 0
            return
        if self.cluster_max > 0.0:
            self.quiet += 1
            if self.quiet >= self.run:
                y = self.cluster_max
                self.n_peaks += 1.0
                self.s1 += y
                self.s2 += y * y
                self.cluster_max = 0.0
                self.quiet = 0

    def to_state(self) -> list[float]:
        return [self.n_obs, self.n_peaks, self.s1, self.s2, self.cluster_max, self.quiet]

    def load_state(self, state: list[float]) -> None:
        self.n_obs, self.n_peaks, self.s1, self.s2, self.cluster_max, quiet = state
        self.quiet = int(quiet)
        self._fit = None
