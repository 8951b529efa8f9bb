"""The negative-binomial tail against a brute-force sum of the probability mass."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.detect.nbinom import log_sf


def _brute(count: int, mean: float, phi: float) -> float:
    if phi < 1e-4:
        terms = [-mean + k * math.log(mean) - math.lgamma(k + 1) for k in range(count)]
    else:
        size = 1 / phi
        p = size / (size + mean)
        terms = [
            math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) + size * math.log(p) + k * math.log1p(-p)
            for k in range(count)
        ]
    return 1.0 - sum(math.exp(t) for t in terms)


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(1, 60),
    mean=st.floats(0.05, 40.0),
    phi=st.one_of(st.just(0.0), st.floats(0.001, 3.0)),
)
def test_tail_matches_the_mass_it_leaves_out(count: int, mean: float, phi: float) -> None:
    expected = _brute(count, mean, phi)
    if expected > 1e-9:  # below that the brute force has lost its digits, not the tail
        assert math.isclose(math.exp(log_sf(count, mean, phi)), expected, rel_tol=1e-6, abs_tol=1e-12)


def test_far_tails_stay_ordered_in_log_space() -> None:
    a, b = log_sf(400, 10.0, 0.1), log_sf(800, 10.0, 0.1)
    assert b < a < -50  # both far below float underflow of the plain probability, still comparable


def test_trivial_counts() -> None:
    assert log_sf(0, 5.0, 0.1) == 0.0
    assert log_sf(3, 0.0, 0.1) == -math.inf
