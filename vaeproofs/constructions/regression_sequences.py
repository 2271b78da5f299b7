"""Heteroscedastic regression at high precision: parameter sequences along one input's targets.

A standalone mpmath check for claim ``regression.heteroscedastic-unbounded`` (docs/theory.md
section 6; derivation "heteroscedastic").  It is not one of the VAE constructions of the
registry (no decoder network): one distinct input with targets y_1..y_m, its Gaussian
log-likelihood l(mu, v) = sum_j log N(y_j; mu, v) evaluated at ``dps`` digits along

- v = 10^-k, mu = y (one target, S = 0): l grows by exactly (1/2) log 10 per decade,
  without bound;
- (mu, v) -> (ybar, s^2) from eight directions, for targets with spread: every value stays
  <= the closed-form supremum -(m/2)(log(2 pi s^2) + 1) and the last is within 10^-(k) of
  it (the gap is quadratic in the step);
- v = xi + 10^-k, mu = y (one target, floor xi): l stays <= -(1/2) log(2 pi xi) and tends
  to it.

Conventions: natural log; v, s^2 and xi are variances; s^2 is the 1/m empirical variance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import mpmath

__all__ = ["RegressionSequences", "regression_sequences"]

#: The targets of the input with spread (their 1/m variance is 14/9).
SPREAD_TARGETS = (1, 2, 4)
#: The floor of the floored sequence.
FLOOR = mpmath.mpf(1) / 100


def _loglik(targets: tuple[mpmath.mpf, ...], mu: mpmath.mpf, v: mpmath.mpf) -> mpmath.mpf:
    return mpmath.fsum(-mpmath.log(2 * mpmath.pi * v) / 2 - (y - mu) ** 2 / (2 * v)
                       for y in targets)


@dataclass(frozen=True)
class RegressionSequences:
    """The three sequences' values (as strings, ``dps`` digits) and what they show."""

    dps: int
    single_target_values: tuple[str, ...]
    single_target_increments: tuple[str, ...]
    spread_sup: str
    spread_max_excess: str
    spread_last_gap: str
    floor_cap: str
    floored_values: tuple[str, ...]

    @property
    def single_target_diverges(self) -> bool:
        """Each decade adds (1/2) log 10 to within 10^-(dps - 5): unbounded above."""
        half_log10 = mpmath.log(10) / 2
        tol = mpmath.mpf(10) ** (5 - self.dps)
        return all(abs(mpmath.mpf(d) - half_log10) <= tol for d in self.single_target_increments)

    @property
    def spread_capped(self) -> bool:
        """No value exceeds the closed-form supremum, and the sequence reaches it."""
        tol = mpmath.mpf(10) ** (5 - self.dps)
        return mpmath.mpf(self.spread_max_excess) <= tol and mpmath.mpf(self.spread_last_gap) <= \
            mpmath.mpf(10) ** -20

    @property
    def floored_capped(self) -> bool:
        """Every floored value is <= -(1/2) log(2 pi xi), and the last is within 10^-20 of it."""
        cap = mpmath.mpf(self.floor_cap)
        values = [mpmath.mpf(v) for v in self.floored_values]
        return all(v <= cap for v in values) and cap - values[-1] <= mpmath.mpf(10) ** -20

    @property
    def holds(self) -> bool:
        """All three sequences say what the derivation says."""
        return self.single_target_diverges and self.spread_capped and self.floored_capped


def regression_sequences(dps: int = 50, decades: int = 24) -> RegressionSequences:
    """Evaluate the three sequences at ``dps`` digits over ``decades`` steps."""
    with mpmath.workdps(dps):
        y = mpmath.mpf(3)
        single = [_loglik((y,), y, mpmath.mpf(10) ** -k) for k in range(decades + 1)]
        targets = tuple(mpmath.mpf(t) for t in SPREAD_TARGETS)
        m = len(targets)
        ybar = mpmath.fsum(targets) / m
        s2 = mpmath.fsum((t - ybar) ** 2 for t in targets) / m
        sup = -m * (mpmath.log(2 * mpmath.pi * s2) + 1) / 2
        excess, gap = -mpmath.inf, mpmath.inf
        for i in range(8):
            angle = 2 * mpmath.pi * i / 8
            for k in range(decades + 1):
                step = mpmath.mpf(10) ** -k
                value = _loglik(targets, ybar + step * mpmath.cos(angle),
                                s2 * (1 + step * mpmath.sin(angle) / 2))
                excess = max(excess, value - sup)
            gap = min(gap, sup - value)
        floored = [_loglik((y,), y, FLOOR + mpmath.mpf(10) ** -k) for k in range(decades + 1)]
        cap = -mpmath.log(2 * mpmath.pi * FLOOR) / 2
        return RegressionSequences(
            dps=dps,
            single_target_values=tuple(mpmath.nstr(v, dps) for v in single),
            single_target_increments=tuple(mpmath.nstr(b - a, dps) for a, b in
                                           itertools.pairwise(single)),
            spread_sup=mpmath.nstr(sup, dps), spread_max_excess=mpmath.nstr(excess, dps),
            spread_last_gap=mpmath.nstr(abs(gap), dps), floor_cap=mpmath.nstr(cap, dps),
            floored_values=tuple(mpmath.nstr(v, dps) for v in floored))
