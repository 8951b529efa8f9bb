"""Upper tail of the negative binomial (gamma-Poisson) count distribution, in log space.

``NB(mean, phi)`` has variance ``mean + phi * mean**2``: a Poisson count whose rate is itself gamma-distributed
with mean ``mean`` and variance ``phi * mean**2``. ``phi → 0`` is the Poisson limit. Computed with the regularized
incomplete beta / gamma functions (continued fractions, Numerical Recipes §6.2/§6.4), in log space so that tails
far below 1e-300 still compare correctly. No scipy: these few functions are all the detector needs.
"""

from __future__ import annotations

import math

_EPS = 1e-14
_TINY = 1e-300
_MAX_ITER = 500
#: Below this dispersion (``size = 1/phi`` above 1e4) the Poisson tail is used: the two agree to ~1e-4 relative.
POISSON_PHI = 1e-4


def _log_betacf(a: float, b: float, x: float) -> float:
    """log of the continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.log(h)


def log_betainc(a: float, b: float, x: float) -> float:
    """log I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return 0.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return log_front + _log_betacf(a, b, x) - math.log(a)
    rest = math.exp(log_front + _log_betacf(b, a, 1.0 - x) - math.log(b))
    return math.log1p(-rest) if rest < 1.0 else -math.inf


def log_gammainc_lower(a: float, x: float) -> float:
    """log P(a, x), the regularized lower incomplete gamma function, for a > 0 and x >= 0."""
    if x <= 0.0:
        return -math.inf
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # series
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return log_front + math.log(total)
    # continued fraction for Q = 1 - P
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER + 1):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    q = math.exp(log_front + math.log(h))
    return math.log1p(-q) if q < 1.0 else -math.inf


def log_sf(count: float, mean: float, phi: float) -> float:
    """log P(X >= count) for X ~ NB(mean, phi); 0.0 (certain) for count <= 0.

    ``count`` may be fractional (reach-weighted counts): the continuous extension of the tail is used.
    """
    if count <= 0.0:
        return 0.0
    if mean <= 0.0:
        return -math.inf
    if phi < POISSON_PHI:
        # P(X >= s) for Poisson(mean) is P(Gamma(s, 1) <= mean)
        return log_gammainc_lower(count, mean)
    size = 1.0 / phi
    return log_betainc(count, size, mean / (size + mean))


def log10_sf(count: float, mean: float, phi: float) -> float:
    return log_sf(count, mean, phi) / math.log(10.0)
