"""One count signal of one key: a seasonal baseline, a burst test and persistence tests, each tail-calibrated.

Per bucket, *before* the bucket is learned, each test computes a surprise ``x = -log10 p``, ``p`` the negative
binomial probability of so high a count given the baseline's expectation and that block length's dispersion:

- the **burst** test: the bucket on its own;
- the **persistence** tests: the last ``blocks`` blocks of ``b`` buckets (b = 1 min, 5 min, 15 min, 1 h); ``x`` is
  the *smallest* of the blocks' surprises, so every block must be elevated.

``evt.TailCalibration`` turns ``x`` into a calibrated tail probability; the score is 0.5 where that equals the
per-test false-alarm budget (``alpha``) and reaches 1 at ``alpha²``. A practical gate (ratio to expectation and
excess count over the test's whole window) caps the score below 0.5 for increases too small to matter.

All tests are nondecreasing in the current bucket's count, so ``assess`` on a still-filling bucket (the count so
far) is a valid early test: if it alarms, the completed bucket alarms too. Nothing is learned until ``observe``.
Missing buckets are "no data": not learned and not in any sum (observed and expected alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pipeline.detect.config import DetectorConfig
from pipeline.detect.evt import TailCalibration
from pipeline.detect.nbinom import log10_sf
from pipeline.detect.seasonal import SeasonalBaseline, ShareBaseline
from pipeline.detect.windows import PrefixSums

# E[min(Z², c²)] for a standard normal Z at c = 3: corrects the winsorised second moment
_KAPPA_3SD = 0.9707
_PRIOR_BUCKETS = 10.0


@dataclass(frozen=True, slots=True)
class Assessment:
    """How unusual one bucket is, on the test that makes it most unusual."""

    start: float
    observed: float  # count over the deciding test's window
    expected: float  # the baseline's expectation for the same window
    window: int  # buckets in that window (1 = the bucket itself)
    log10_p: float  # log10 of the calibrated probability of so surprising a count (see evt.py)
    score: float  # in [0, 1]; 0.5 = exactly at the alerting level
    warm: bool  # past the warm-up: may alert

    @property
    def anomalous(self) -> bool:
        return self.warm and self.score >= 0.5

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


@dataclass(frozen=True, slots=True)
class _Measured:
    """One bucket's per-test figures: (observed, expected) over each test's window, and each test's surprise."""

    slot: int
    mu: float
    totals: list[tuple[float, float]]
    surprises: list[float]
    blocks: dict[int, tuple[float, float]]  # block length -> (observed, expected) of the newest block
    block_surprises: dict[int, float]  # block length -> surprise of the newest block
    dispersions: dict[int, float]  # block length -> dispersion used


class CountChannel:
    """Baseline, tests and calibrations of one count series (e.g. negative mentions of one brand)."""

    def __init__(
        self, interval_s: float, config: DetectorConfig, conditional: bool = False, share: float = 1.0
    ) -> None:
        self.interval_s = interval_s
        self.config = config
        self.tests = config.tests(interval_s)
        self.block_sizes = sorted({b for b, _ in self.tests})
        self.log10_alpha = config.log10_alpha(interval_s, share)  # share: of the budget (config.py)
        # conditional: the expectation is a share of an exposure given with each bucket (negatives | volume)
        self.baseline: SeasonalBaseline | ShareBaseline = (
            ShareBaseline(interval_s, config) if conditional else SeasonalBaseline(interval_s, config)
        )
        self.sums = PrefixSums(max(b * n for b, n in self.tests))
        self.disp_num = dict.fromkeys(self.block_sizes, 0.0)
        self.disp_den = dict.fromkeys(self.block_sizes, 0.0)
        run = max(1, math.ceil(config.quiet_s / interval_s))
        # block length -> slot -> surprise of the block that ended at that slot, for the persistence tests
        self.history: dict[int, dict[int, float]] = {b: {} for b in self.block_sizes}
        self._history_span = {
            b: max((b * (n - 1) for bb, n in self.tests if bb == b), default=0) for b in self.block_sizes
        }
        self.tails = [TailCalibration(math.exp(-interval_s / config.tail_tau_s), run) for _ in self.tests]
        self._a_disp = -math.expm1(-interval_s / config.dispersion_tau_s)
        self._no_clip_buckets = 3_600.0 / interval_s
        # a floor under any expectation: one mention per 100 hours (a brand never mentioned is not a brand whose
        # first mentions are impossible)
        self._floor = interval_s / (100 * 3_600.0)

    # ------------------------------------------------------------------ reading
    def dispersion(self, block: int) -> float:
        if self.disp_den[block] <= 0.0:
            return self.config.initial_dispersion
        return max(self.config.min_dispersion, self.disp_num[block] / self.disp_den[block])

    @property
    def warm(self) -> bool:
        return self.baseline.seen * self.interval_s >= self.config.warmup_s

    @staticmethod
    def _surprise(obs: float, exp: float, phi: float) -> float:
        if obs <= exp or exp <= 0.0:
            return 0.0
        # under two standard deviations p stays above ~2% even for skewed counts: x < T0, below anything the tail
        # calibration or the score can use, so the tail math is skipped
        if obs - exp < 2.0 * math.sqrt(exp + phi * exp * exp):
            return 0.0
        return -log10_sf(obs, exp, phi)

    def _measure(self, start: float, count: float, exposure: float) -> _Measured:
        slot = round(start / self.interval_s)
        mu = max(self.baseline.expected(start + self.interval_s / 2, exposure), self._floor)
        newest: dict[int, tuple[float, float]] = {}
        block_x: dict[int, float] = {}
        phis: dict[int, float] = {}
        for b in self.block_sizes:
            phis[b] = phi = self.dispersion(b)
            newest[b] = obs, exp = (count, mu) if b == 1 else self.sums.window(slot - b + 1, slot, slot, count, mu)
            block_x[b] = self._surprise(obs, exp, phi)
        totals, surprises = [], []
        for b, n in self.tests:
            # older blocks as they were measured when they were the newest (a missing one breaks persistence)
            x = block_x[b]
            past = self.history[b]
            for j in range(1, n):
                if x <= 0.0:
                    break
                x = min(x, past.get(slot - j * b, 0.0))
            surprises.append(x)
            # the whole window's sums only matter (for the practical gate) when the test is surprised at all
            whole = n > 1 and x > 0.0
            totals.append(self.sums.window(slot - b * n + 1, slot, slot, count, mu) if whole else newest[b])
        return _Measured(slot, mu, totals, surprises, newest, block_x, phis)

    def assess(self, start: float, count: float, exposure: float = 0.0) -> Assessment:
        """How unusual ``count`` is for the bucket starting at ``start``; learns nothing (a partial bucket's count
        so far may be given, except for a conditional channel, whose expectation grows with the exposure)."""
        return self._assess(start, self._measure(start, count, exposure))

    def _assess(self, start: float, m: _Measured) -> Assessment:
        cfg = self.config
        best: tuple[float, int, float] = (0.0, 0, 0.0)  # score, test index, log10 tail
        for i, x in enumerate(m.surprises):
            if x <= 0.0:
                continue
            obs, exp = m.totals[i]
            if obs <= exp or exp <= 0.0:
                continue
            gate = min(0.5 * math.log(obs / exp) / math.log(cfg.min_ratio), 0.5 * (obs - exp) / cfg.min_excess)
            if gate <= best[0]:
                continue
            tail = self.tails[i].log10_tail(x)
            score = min(gate, 0.5 * tail / self.log10_alpha, 1.0)
            if score > best[0]:
                best = (score, i, tail)
        score, i, tail = best
        obs, exp = m.totals[i]
        b, n = self.tests[i]
        return Assessment(start, obs, exp, b * n, tail, score, self.warm)

    def upper(self, assessment: Assessment) -> float:
        """Roughly the count over the assessment's window at which its test alerts (for humans: a search that
        treats the window as one block)."""
        i = next(k for k, (b, n) in enumerate(self.tests) if b * n == assessment.window)
        b, n = self.tests[i]
        exp = assessment.expected
        phi = self.dispersion(b)

        def alerts(total: float) -> bool:
            x = -log10_sf(total / n, exp / n, phi)
            return self.tails[i].log10_tail(x) <= self.log10_alpha

        lo = max(exp * self.config.min_ratio, exp + self.config.min_excess)
        if alerts(lo):
            return lo
        hi = lo * 2.0
        while not alerts(hi) and hi < 1e12:
            hi *= 2.0
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if alerts(mid) else (mid, hi)
        return hi

    # ------------------------------------------------------------------ learning
    def observe(self, start: float, count: float, exposure: float = 0.0) -> Assessment:
        """Assess the completed bucket, then learn it. Buckets must come in increasing ``start`` order."""
        m = self._measure(start, count, exposure)
        last = self.sums.slots[-1] if self.sums.slots else None
        if last is not None and m.slot <= last:
            raise ValueError(f"bucket at {start} is not after the last one learned")
        assessment = self._assess(start, m)
        self._learn(start, count, exposure, m)
        return assessment

    def _learn(self, start: float, count: float, exposure: float, m: _Measured) -> None:
        mu = m.mu
        taught = count
        if self.baseline.seen >= self._no_clip_buckets:
            c = self.config.clip_sd
            sd = math.sqrt(mu + m.dispersions[1] * mu * mu)
            # + (c² - 1) / 6: the Cornish-Fisher skew term of a Poisson quantile; without it, winsorising a mean of
            # 0.05 at 3 sd (0.7) clips every single mention and the level of a small brand decays to nothing
            taught = min(max(count, mu - c * sd), mu + c * sd + (c * c - 1.0) / 6.0)
        self.baseline.learn(start + self.interval_s / 2, max(taught, 0.0), exposure)
        self.sums.append(m.slot, count, mu)
        keep = 1.0 - self._a_disp
        c2 = self.config.clip_sd**2
        for b, (obs, exp) in m.blocks.items():
            if exp <= 0.0:
                continue
            phi = m.dispersions[b]
            var = exp + phi * exp * exp
            estimate = (min((obs - exp) ** 2, c2 * var) / _KAPPA_3SD - exp) / (exp * exp)
            weight = (exp / (1.0 + phi * exp)) ** 2
            if self.disp_den[b] <= 0.0:
                prior = self._a_disp * weight * _PRIOR_BUCKETS
                self.disp_num[b] = self.config.initial_dispersion * prior
                self.disp_den[b] = prior
            self.disp_num[b] = keep * self.disp_num[b] + self._a_disp * weight * estimate
            self.disp_den[b] = keep * self.disp_den[b] + self._a_disp * weight
        if self.baseline.seen * self.interval_s >= self.config.warmup_s / 2:
            # the first half of the warm-up fits the baseline; its surprises say more about the young baseline
            # than about the series' tail
            for tail, x in zip(self.tails, m.surprises, strict=True):
                tail.learn(x)
        for b, x in m.block_surprises.items():
            past = self.history[b]
            past[m.slot] = x
            span = self._history_span[b]
            past.pop(m.slot - span, None)
            if len(past) > 2 * span + 2:  # after gaps: drop what the pop above missed
                for old in [k for k in past if k <= m.slot - span]:
                    del past[old]

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        return {
            "tests": [list(t) for t in self.tests],
            "baseline": self.baseline.to_state(),
            "sums": self.sums.to_state(),
            "disp": [[k, self.disp_num[k], self.disp_den[k]] for k in self.block_sizes],
            "tails": [t.to_state() for t in self.tails],
            "history": [[b, list(h.items())] for b, h in self.history.items()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        tests = [tuple(t) for t in state["tests"]]
        if tests != list(self.tests):
            raise ValueError(f"state has the tests {tests}, this configuration {list(self.tests)}: replay instead")
        self.baseline.load_state(state["baseline"])
        self.sums.load_state(state["sums"])
        for k, num, den in state["disp"]:
            self.disp_num[k], self.disp_den[k] = num, den
        for tail, tail_state in zip(self.tails, state["tails"], strict=True):
            tail.load_state(tail_state)
        for b, items in state["history"]:
            self.history[b] = {int(slot): x for slot, x in items}
