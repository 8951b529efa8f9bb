"""The one line a human reads first, per signal, e.g. 'negative mentions 14x baseline: 182 vs 13 expected in 15 min'."""

from __future__ import annotations

import math
from collections.abc import Callable

from pipeline.detect.channel import Assessment, CountChannel
from pipeline.detect.seasonal import ShareBaseline
from pipeline.incidents import Signal

NOUNS: dict[str, str] = {
    "volume": "mentions",
    "negative_volume": "negative mentions",
    "reach_negativity": "reach of negative mentions (in typical posts)",
    "near_duplicates": "near-duplicate negative posts",
}


def wilson_interval(successes: float, trials: float, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion: honest at small counts (never outside [0, 1])."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _span(buckets: int, interval_s: float) -> str:
    minutes = buckets * interval_s / 60.0
    return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60.0:g} h"


def describe(signal: Signal, channel: CountChannel) -> Callable[[Assessment], str]:
    def line(a: Assessment) -> str:
        span = _span(a.window, channel.interval_s)
        ratio = f"{a.ratio:.1f}x" if math.isfinite(a.ratio) else "new"
        baseline = channel.baseline
        if signal == "negative_share" and isinstance(baseline, ShareBaseline) and baseline.share > 0:
            volume = a.expected / baseline.share
            low, _ = wilson_interval(a.observed, volume)
            return (
                f"negative share {a.observed / max(volume, 1e-9):.0%} (95% lower bound {low:.0%}) vs "
                f"{baseline.share:.0%} baseline over {span}"
            )
        noun = NOUNS.get(signal, signal)
        return f"{noun} {ratio} baseline: {a.observed:.0f} vs {a.expected:.1f} expected in {span}"

    return line
